"""Landing page, sign up, sign in, sign out, and the language switch."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from parvis.domain.errors import DomainError, Forbidden
from parvis.services import accounts, appeals, deletion, network_addresses, rules, sessions
from parvis.services.context import Work
from parvis.web import i18n
from parvis.web.pages import (
    LANG_COOKIE,
    YEAR,
    back,
    client_address,
    error_message,
    form,
    read,
    redirect,
    render,
    set_session,
    text,
    visitor,
    write,
)
from parvis.web.views import decisions
from parvis.web.views.deletion import closed_page


async def landing(request: Request) -> Response:
    who = await visitor(request)
    if who.signed_in:
        return redirect("/home")

    def facts(work: Work) -> tuple[dict[str, int], list[str]]:
        return {"users": work.store.accounts.count_local()}, [r.text for r in rules.current(work)]

    counts, rules_in_force = await read(request, facts)
    return render(request, who, "landing.html", counts=counts, rules=rules_in_force)


async def login_page(request: Request) -> Response:
    who = await visitor(request)
    if who.signed_in:
        return redirect(back(request, "/home"))
    return render(request, who, "login.html", error=None, login="")


async def login(request: Request) -> Response:
    who = await visitor(request)
    data = await form(request)
    login_name, password = text(data, "login", limit=320), text(data, "password", limit=1024)
    try:
        token = await write(
            request,
            lambda work: sessions.start(
                work, login_name, password, address=client_address(request)
            ),
        )
    except DomainError as exc:
        if isinstance(exc, Forbidden):  # right password: a closed account may cancel
            closing = await write(
                request, lambda work: deletion.closed_ticket(work, login_name, password)
            )
            if closing is not None:
                return await closed_page(request, *closing)
        if isinstance(exc, Forbidden):  # right password: a suspended author may still appeal
            found = await write(
                request, lambda work: appeals.suspended_ticket(work, login_name, password)
            )
            if found is not None:
                ticket, suspension = found
                return await decisions.suspended_statement(request, ticket, suspension.id)
        return render(
            request, who, "login.html", code=401, error=error_message(exc), login=login_name
        )
    response = redirect(back(request, "/home"))
    set_session(response, request, token)
    return response


async def logout(request: Request) -> Response:
    who = await visitor(request)
    await form(request)
    if who.token:
        token = who.token
        await write(request, lambda work: sessions.end(work, token))
    response = redirect("/")
    set_session(response, request, None)
    return response


async def signup_page(request: Request) -> Response:
    who = await visitor(request)
    if who.signed_in:
        return redirect("/home")
    return render(request, who, "signup.html", error=None, values={})


async def signup(request: Request) -> Response:
    who = await visitor(request)
    data = await form(request)
    values = {
        "username": text(data, "username", limit=64).strip(),
        "email": text(data, "email", limit=320).strip(),
        "reason": text(data, "reason", limit=1000).strip(),
    }
    reg = accounts.Registration(
        username=values["username"],
        email=values["email"],
        password=text(data, "password", limit=1024),
        agreement=data.get("agreement") == "on",
        locale=who.locale,
        reason=values["reason"] or None,
    )

    address = client_address(request)

    def run(work: Work) -> str | None:
        user = accounts.register(work, reg)
        network_addresses.record(work, user.account_id, "sign_up", address)
        if not (user.approved and user.confirmed):
            return None  # waits for a moderator (approval mode)
        return sessions.start(work, reg.email, reg.password)

    try:
        token = await write(request, run)
    except DomainError as exc:
        return render(
            request, who, "signup.html", code=422, error=error_message(exc), values=values
        )
    if token is None:
        return render(request, who, "signup_pending.html")
    response = redirect("/home")
    set_session(response, request, token)
    return response


async def language(request: Request) -> Response:
    """Switch the interface language: remembered in a cookie, and in the account's settings
    when signed in."""
    who = await visitor(request)
    data = await form(request)
    chosen = i18n.supported(text(data, "lang", limit=16))
    response = redirect(back(request, "/"))
    if chosen is None:
        return response
    if who.account_id is not None:
        account_id = who.account_id
        await write(request, lambda work: accounts.set_locale(work, account_id, chosen))
    response.set_cookie(LANG_COOKIE, chosen, max_age=YEAR, httponly=True, samesite="lax")
    return response


routes = [
    Route("/", landing, methods=["GET"]),
    Route("/login", login_page, methods=["GET"]),
    Route("/login", login, methods=["POST"]),
    Route("/logout", logout, methods=["POST"]),
    Route("/signup", signup_page, methods=["GET"]),
    Route("/signup", signup, methods=["POST"]),
    Route("/language", language, methods=["POST"]),
]
