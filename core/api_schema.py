"""The OpenAPI schema's house rules (REST_FRAMEWORK DEFAULT_SCHEMA_CLASS): a summary for every
operation and every error response documented with a shared component. Its own module: DRF
imports api_support (the pagination class) while defining its generic views, which
drf_spectacular.openapi imports."""

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.plumbing import ResolvedComponent
from rest_framework.permissions import AllowAny

ERROR_SCHEMA = {
    "type": "object",
    "description": "Why the request was refused, in words for the billing office.",
    "properties": {"detail": {"type": "string"}},
    "required": ["detail"],
}
FIELD_ERRORS_SCHEMA = {
    "type": "object",
    "description": "What was wrong with the input: each field named with its messages (a list of strings, "
    "or for a nested field an object of the same shape). Errors not about one field are under "
    "`non_field_errors`; an unreadable body is under `detail`.",
    "properties": {
        "non_field_errors": {"type": "array", "items": {"type": "string"}},
        "detail": {"type": "string"},
    },
    "additionalProperties": {},
}

FREE_FORM_OBJECT = {"type": "object", "additionalProperties": {}}

# status -> (component, description when the view gave none)
ERROR_RESPONSES = {
    "400": ("FieldErrors", "Invalid input: the fields named with what is wrong."),
    "401": ("Error", "No credentials, or a token that is unknown, expired or revoked."),
    "403": ("Error", "Your access tier may not do this (or see what this filter reveals)."),
    "404": ("Error", "No such record in your practices, or a page past the last one."),
    "429": ("Error", "Too many requests: wait the seconds the Retry-After header gives."),
}


class ApiSchema(AutoSchema):
    """drf-spectacular's AutoSchema with two house rules: an operation without an explicit
    `summary` takes the first sentence of its view's docstring (or its name), and the error answers
    every view can give are documented with the shared Error and FieldErrors components."""

    def get_summary(self):
        summary = super().get_summary()
        if summary:
            return summary
        description = (self.get_description() or "").strip()
        if description:
            first = description.split("\n\n")[0].replace("\n", " ")
            sentence = first.split(". ")[0].rstrip(".")
            # A long first sentence ends at its first aside: "Search accounts by ... (terms in the body)".
            for aside in (" (", "; ", ": "):
                if len(sentence) > 100 and aside in sentence:
                    sentence = sentence[: sentence.index(aside)]
            return sentence if len(sentence) <= 120 else sentence[:117].rstrip() + "..."
        return self.get_operation_id().replace("_", " ").capitalize()

    def _is_public(self) -> bool:
        return any(isinstance(permission, AllowAny) for permission in self.view.get_permissions())

    def _error_codes(self) -> list[str]:
        codes = ["429"]
        query = [parameter for parameter in self._get_parameters() if parameter.get("in") == "query"]
        has_input = bool(query) or self.method in ("POST", "PUT", "PATCH")
        if has_input:
            codes.append("400")
        if not self._is_public():
            # 404: a record in the path or the body that is not in your practices, or a page past the end.
            codes += ["401", "403", "404"]
        return sorted(codes)

    def _error_component(self, name: str) -> dict:
        schema = ERROR_SCHEMA if name == "Error" else FIELD_ERRORS_SCHEMA
        component = ResolvedComponent(name=name, type=ResolvedComponent.SCHEMA, object=name, schema=schema)
        self.registry.register_on_missing(component)
        return component.ref

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction=direction)
        if direction != "response":
            return responses
        for code in self._error_codes():
            component, description = ERROR_RESPONSES[code]
            response = responses.setdefault(code, {"description": description})
            if not response.get("description"):
                response["description"] = description
        # Any error a view documents in words only (a 413, its own 403 message) gets the shape too.
        for code, response in responses.items():
            if not code.startswith("4"):
                continue
            schema = response.get("content", {}).get("application/json", {}).get("schema")
            if schema is None or schema == FREE_FORM_OBJECT:
                component = ERROR_RESPONSES.get(code, ("Error",))[0]
                response["content"] = {"application/json": {"schema": self._error_component(component)}}
        return responses
