import xml.etree.ElementTree as ET

from gensidig.services import charts

SVG = "{http://www.w3.org/2000/svg}"
SERIES = [
    charts.Series("importance", "Importance", "circle-open"),
    charts.Series("experience", "Experience", "circle"),
    charts.Series("chief", "Chief", "diamond"),
]


def parse(svg):
    return ET.fromstring(str(svg))


def test_a_dot_plot_is_an_image_with_a_title_and_a_description():
    root = parse(
        charts.dot_plot(
            chart_id="c",
            title="Six themes",
            description="What it shows",
            series=SERIES,
            rows=[charts.DotRow("A & B <x>", {"importance": 4.5, "experience": 3.0, "chief": 4.0})],
        )
    )
    assert root.get("role") == "img"
    assert root.get("aria-labelledby") == "c-title c-desc"
    assert root.find(f"{SVG}title").text == "Six themes"
    assert root.find(f"{SVG}desc").text == "What it shows"
    assert any(t.text == "A & B <x>" for t in root.iter(f"{SVG}text"))  # escaped in the markup, intact as text


def test_each_series_is_drawn_where_its_value_lies_and_the_gap_joins_two():
    svg = charts.dot_plot(
        chart_id="c",
        title="t",
        description="d",
        series=SERIES,
        connect=("importance", "experience"),
        rows=[charts.DotRow("Row", {"importance": 5.0, "experience": 1.0, "chief": None})],
    )
    root = parse(svg)
    circles = {c.get("class"): float(c.get("cx")) for c in root.iter(f"{SVG}circle")}
    assert circles["series-experience circle"] < circles["series-importance circle-open"]
    assert not list(root.iter(f"{SVG}polygon"))  # no chief value, no diamond
    gap = next(line for line in root.iter(f"{SVG}line") if line.get("class") == "chart-gap")
    assert {float(gap.get("x1")), float(gap.get("x2"))} == set(circles.values())


def test_a_withheld_row_shows_its_note_and_no_markers():
    root = parse(
        charts.dot_plot(
            chart_id="c",
            title="t",
            description="d",
            series=SERIES,
            rows=[charts.DotRow("Row", {"importance": None, "experience": None, "chief": 3.0}, note="Too few answers")],
        )
    )
    assert not list(root.iter(f"{SVG}circle"))
    assert any(t.text == "Too few answers" for t in root.iter(f"{SVG}text"))
    assert len(list(root.iter(f"{SVG}polygon"))) == 1  # the chief's own answer is still theirs


def test_the_grid_numbers_each_point_names_the_regions_and_draws_the_diagonal():
    labels = {
        "concentrate": "Here",
        "keep_up": "Keep",
        "low_priority": "Low",
        "possible_overkill": "Over",
        "x_axis": "Experience",
        "y_axis": "Importance",
    }
    root = parse(
        charts.importance_performance_grid(
            chart_id="g",
            title="Grid",
            description="d",
            band=0.5,
            important_from=3.5,
            quadrant_labels=labels,
            points=[charts.GridPoint(1, 4.6, 2.4), charts.GridPoint(2, 3.1, 4.2)],
        )
    )
    texts = [t.text for t in root.iter(f"{SVG}text")]
    assert {"1", "2", "Here", "Keep", "Low", "Over"} <= set(texts)
    assert len([c for c in root.iter(f"{SVG}circle")]) == 2
    # The diagonal runs corner to corner of the plot (from 2,2 to 5,5 here), the band beside it.
    (diagonal,) = [line for line in root.iter(f"{SVG}line") if line.get("class") == "chart-diagonal"]
    assert float(diagonal.get("x1")) < float(diagonal.get("x2")) and float(diagonal.get("y1")) > float(
        diagonal.get("y2")
    )
    assert len([line for line in root.iter(f"{SVG}line") if line.get("class") == "chart-band"]) == 2
