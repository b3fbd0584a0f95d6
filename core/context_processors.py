from core.access import FieldGroup, can_see


def access(request):
    """Templates ask `can.billing`, `can.management`... instead of comparing tiers."""
    user = getattr(request, "user", None)
    return {"can": {group.value: can_see(user, group) for group in FieldGroup}}
