import xml.etree.ElementTree as ET

from gensidig.services import charts

SVG = "{http://www.w3.org/2000/svg}"
SERIES = [
    charts.Series("importance", "Importance", "circle-open"),
    charts.Series("experience", "Experience", "circle"),
    charts.Series("chief", "Chief", "diamond"),
]


def layouts(svg):
    """A chart's two layouts, wide and narrow, as parsed SVG elements."""
    wide, narrow = ET.fromstring(f"<charts>{svg}</charts>")
    return wide, narrow


def parse(svg):
    """The wide layout, the one the desktop and the PDF show."""
    return layouts(svg)[0]


def text_of(element):
    return "".join(element.itertext())


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


def test_each_chart_comes_in_a_wide_and_a_narrow_layout_each_an_image_with_its_own_ids():
    svg = charts.dot_plot(
        chart_id="c",
        title="Six themes",
        description="What it shows",
        series=SERIES,
        rows=[charts.DotRow("Row", {"importance": 4.5, "experience": 3.0, "chief": 4.0})],
    )
    assert str(svg).startswith('<svg class="chart" id="c" ')  # the wide one first: pdf.pdf_chart styles it
    wide, narrow = layouts(svg)
    assert narrow.get("class") == "chart chart-narrow" and narrow.get("id") == "c-narrow"
    assert narrow.get("viewBox").startswith(f"0 0 {charts.NARROW_WIDTH} ")
    for layout in (wide, narrow):
        chart_id = layout.get("id")
        assert layout.get("role") == "img"
        assert layout.get("aria-labelledby") == f"{chart_id}-title {chart_id}-desc"
        assert layout.find(f"{SVG}title").get("id") == f"{chart_id}-title"
        assert layout.find(f"{SVG}title").text == "Six themes"
        assert layout.find(f"{SVG}desc").text == "What it shows"


def test_the_narrow_dot_plot_puts_each_label_above_its_own_axis_in_lines_that_fit():
    label = "Gør retningen meningsfuld for medarbejderne og for alle andre, der skal forstå den"
    _wide, narrow = layouts(
        charts.dot_plot(
            chart_id="c",
            title="t",
            description="d",
            series=SERIES,
            connect=("importance", "experience"),
            rows=[
                charts.DotRow(label, {"importance": 5.0, "experience": 1.0, "chief": 3.0}, flagged=True),
                charts.DotRow("Withheld", {"importance": None, "experience": None, "chief": 2.0}, note="Too few"),
            ],
        )
    )
    labels = [t for t in narrow.iter(f"{SVG}text") if t.get("class") == "chart-label"]
    assert [len(t) for t in labels] == [3, 1]  # lines, as tspans
    assert text_of(labels[0]) == label  # every word, in order, a space between the lines
    per_line = int((charts.NARROW_WIDTH - 32) / charts.CHAR_WIDTH_14)
    assert all(len(line.text.strip()) <= per_line for line in labels[0])
    (marker_row_y,) = {float(c.get("cy")) for c in narrow.iter(f"{SVG}circle")}
    assert marker_row_y > max(float(line.get("y")) for line in labels[0])  # the axis below its label
    assert any(t.get("class") == "chart-flag" for t in narrow.iter(f"{SVG}text"))
    assert [text_of(t) for t in narrow.iter(f"{SVG}text") if t.get("class") == "chart-note"] == ["Too few"]
    assert len(list(narrow.iter(f"{SVG}polygon"))) == 2  # the chief's answer in both rows
    xs = [float(c.get("cx")) for c in narrow.iter(f"{SVG}circle")]
    assert all(0 < x < charts.NARROW_WIDTH for x in xs)


def test_the_narrow_grid_has_the_same_regions_lines_and_points_as_the_wide_one():
    labels = {
        "concentrate": "Concentrate here",
        "keep_up": "Keep it up",
        "low_priority": "Lower priority",
        "possible_overkill": "Possibly over-served",
        "x_axis": "Experience",
        "y_axis": "Importance",
    }
    layouts_ = layouts(
        charts.importance_performance_grid(
            chart_id="g",
            title="Grid",
            description="d",
            band=0.5,
            important_from=3.5,
            quadrant_labels=labels,
            points=[charts.GridPoint(1, 4.6, 2.4), charts.GridPoint(12, 3.1, 4.2)],
        )
    )
    drawn = []
    for layout in layouts_:
        lines = sorted(line.get("class") for line in layout.iter(f"{SVG}line"))
        regions = sorted(text_of(t) for t in layout.iter(f"{SVG}text") if t.get("class") == "chart-quadrant")
        numbers = sorted(t.text for t in layout.iter(f"{SVG}text") if t.get("class") == "chart-point-label")
        drawn.append((lines, regions, numbers))
    assert drawn[0] == drawn[1]
    assert drawn[0][1] == sorted(labels[key] for key in ("concentrate", "keep_up", "low_priority", "possible_overkill"))
    assert layouts_[1].get("class") == "chart chart-square chart-narrow"
