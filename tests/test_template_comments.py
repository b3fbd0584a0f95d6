"""Django's {# #} comment is one line only: a comment that runs over two lines is printed on the page
as text (the account page once showed its claim bar's comment to reps). Longer ones use
{% comment %}."""

from pathlib import Path

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"


def test_no_template_prints_a_comment_that_spans_lines():
    broken = []
    for template in sorted(TEMPLATES.rglob("*.html")):
        for number, line in enumerate(template.read_text().splitlines(), start=1):
            if line.count("{#") > line.count("#}"):
                broken.append(f"{template.relative_to(TEMPLATES)}:{number}")
    assert broken == []
