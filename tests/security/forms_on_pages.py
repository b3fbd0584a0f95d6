"""The forms a user meets: parsed from the rendered pages and panels, as a browser would submit them.

`discover_forms` opens every page and htmx fragment that shows a form (the account page and its
panels, the plan page, the demographics editor, the queues, the jobs page, the audit trail...) and
reads each <form>: its action, method and fields, with the values the page filled in (hidden
tokens, the plan's version, the selected choice). `Form.body()` is what pressing its button sends.
"""

from dataclasses import dataclass, field
from html.parser import HTMLParser

from django.urls import reverse

HTMX = {"HTTP_HX_REQUEST": "true"}


@dataclass
class Field:
    name: str
    kind: str  # input type, "select" or "textarea"
    value: str = ""
    options: list[str] = field(default_factory=list)
    checked: bool = False


@dataclass
class Form:
    action: str
    method: str
    page: str
    fields: list[Field] = field(default_factory=list)
    multipart: bool = False

    @property
    def key(self) -> str:
        return f"{self.method.upper()} {self.action}"

    def body(self, **overrides) -> dict:
        """The fields a browser sends: checkboxes only when ticked, a select's chosen (or first
        non-empty) option, files left out; `overrides` replaces values by field name."""
        data = {}
        for item in self.fields:
            if item.kind in ("submit", "button", "file", "reset", "image"):
                continue
            if item.kind in ("checkbox", "radio"):
                if item.checked:
                    data[item.name] = item.value or "on"
                continue
            if item.kind == "select" and not item.value:
                data[item.name] = next((option for option in item.options if option), "")
                continue
            data[item.name] = item.value
        data.pop("csrfmiddlewaretoken", None)  # the test decides whether to send a token
        data.update(overrides)
        return data

    def typed_fields(self) -> list[Field]:
        """The fields a person types or picks: what the odd-input corpus goes into."""
        skip = {"submit", "button", "file", "reset", "image"}
        return [item for item in self.fields if item.kind not in skip and item.name != "csrfmiddlewaretoken"]


class _FormParser(HTMLParser):
    def __init__(self, page: str):
        super().__init__(convert_charrefs=True)
        self.page = page
        self.forms: list[Form] = []
        self.form: Form | None = None
        self.select: Field | None = None
        self.option_value: str | None = None
        self.textarea: Field | None = None

    def handle_starttag(self, tag, attrs):
        names = dict(attrs)
        if tag == "button":
            self._button_action(names)
        if tag == "form":
            self.form = Form(
                action=names.get("action") or self.page.split("?")[0],
                method=(names.get("method") or "get").lower(),
                page=self.page,
                multipart=names.get("enctype") == "multipart/form-data",
            )
            self.forms.append(self.form)
        elif self.form is None or ("name" not in names and tag != "option"):
            return
        elif tag == "input":
            kind = (names.get("type") or "text").lower()
            self.form.fields.append(Field(names["name"], kind, names.get("value") or "", checked="checked" in names))
        elif tag == "select":
            self.select = Field(names["name"], "select")
            self.form.fields.append(self.select)
        elif tag == "option" and self.select is not None:
            value = names.get("value", "")
            self.select.options.append(value)
            if "selected" in names:
                self.select.value = value
        elif tag == "textarea":
            self.textarea = Field(names["name"], "textarea")
            self.form.fields.append(self.textarea)
        elif tag == "button" and names.get("value") is not None:
            self.form.fields.append(Field(names["name"], "hidden", names["value"]))

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)

    def _button_action(self, names):
        """A button with its own `formaction` (the plan form's "Show the schedule") sends the same
        fields elsewhere: one more form."""
        if self.form is not None and names.get("formaction"):
            twin = Form(action=names["formaction"], method=self.form.method, page=self.page, fields=self.form.fields)
            self.forms.append(twin)

    def handle_data(self, data):
        if self.textarea is not None:
            self.textarea.value += data

    def handle_endtag(self, tag):
        if tag == "form":
            self.form = None
        elif tag == "select":
            self.select = None
        elif tag == "textarea":
            self.textarea = None


def forms_in(html: str, page: str) -> list[Form]:
    parser = _FormParser(page)
    parser.feed(html)
    return parser.forms


def form_pages(world) -> list[tuple[str, bool]]:
    """(path, htmx?) of every page and fragment that holds a form, for a manager of the practice."""
    account, plan = world.account.pk, world.plan.pk
    return [
        (reverse("home"), False),
        (reverse("search"), False),
        (reverse("schedule"), False),
        (reverse("queue"), False),
        (reverse("queue-team-rep", args=[world.rep.pk]), False),
        (reverse("queue-team-pool"), False),
        (reverse("queue-assignments"), False),
        (reverse("jobs"), False),
        (reverse("account-detail", args=[account]), False),
        (reverse("contacts-panel", args=[account]), True),
        (reverse("holds-panel", args=[account]), True),
        (reverse("correspondence-panel", args=[account]), True),
        (reverse("plans-panel", args=[account]), True),
        (reverse("plans-panel", args=[world.spare_account.pk]), True),  # no plan yet: the set-up form
        (reverse("plan-detail", args=[plan]), False),
        (reverse("patient-edit", args=[world.patient.pk]), False),
        (reverse("writeoffs-panel", args=[world.spare_account.pk]), True),
        (reverse("writeoff-approvals"), False),
        (reverse("writeoff-detail", args=[world.writeoff.pk]), False),
    ]


def discover_forms(client, world, *, extra_pages=()) -> dict[str, Form]:
    """Every distinct form (by method and action) on the form pages. A form on two pages (the
    search box of the top bar and of the search page) has the fields of both."""
    found: dict[str, Form] = {}
    for path, htmx in [*form_pages(world), *extra_pages]:
        response = client.get(path, **(HTMX if htmx else {}))
        assert response.status_code == 200, path
        for form in forms_in(response.content.decode(), path):
            _merge(found, form)
    _add_hold_kind_fields(client, world, found)
    return found


def _merge(found: dict[str, Form], form: Form) -> None:
    if form.key not in found:
        found[form.key] = Form(form.action, form.method, form.page, list(form.fields), form.multipart)
        return
    known = found[form.key]
    names = {item.name for item in known.fields}
    known.fields += [item for item in form.fields if item.name not in names]


def _add_hold_kind_fields(client, world, found: dict[str, Form]) -> None:
    """The place-a-hold form's fields arrive with the chosen kind (htmx swaps them in)."""
    from collections_app.models import AccountHold

    account = world.account.pk
    place = found[f"POST {reverse('hold-place', args=[account])}"]
    for kind in AccountHold.Kind.values:
        response = client.get(reverse("hold-kind-fields", args=[account]), {"kind": kind}, **HTMX)
        assert response.status_code == 200, kind
        html = f'<form method="post" action="{place.action}">{response.content.decode()}</form>'
        for form in forms_in(html, place.page):
            _merge(found, form)
