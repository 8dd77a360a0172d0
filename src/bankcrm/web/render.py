"""Server-side rendering: the Jinja environment, the shared page context and HTMX helpers."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup
from starlette.responses import HTMLResponse, RedirectResponse, Response

from bankcrm.core.formatting import (
    business_today,
    format_compact_money,
    format_date,
    format_datetime,
    format_money,
    format_number,
)
from bankcrm.core.i18n import LOCALE_LABELS, Translator, normalise_locale
from bankcrm.core.permissions import Permission
from bankcrm.core.principal import Principal
from bankcrm.web.security import LOCALE_COOKIE, csrf_token, pop_flash, set_flash

TEMPLATE_DIR = Path(__file__).resolve().parent / "templates"
STATIC_DIR = Path(__file__).resolve().parent / "static"


@dataclass(frozen=True)
class NavItem:
    """One entry of the left navigation; shown only to principals holding ``permission``."""

    key: str
    label: str  # msgid
    url: str
    permission: Permission
    icon: str = "circle"
    section: str = "main"  # msgid of the group heading ("main", "Administration", ...)
    order: int = 50  # sections are shown by their smallest order: work first, administration last


@dataclass
class Navigation:
    items: list[NavItem] = field(default_factory=list)

    def register(self, *items: NavItem) -> None:
        self.items.extend(items)

    def for_principal(self, principal: Principal | None) -> list[tuple[str, list[NavItem]]]:
        if principal is None:
            return []
        sections: dict[str, list[NavItem]] = {}
        for item in sorted(self.items, key=lambda i: i.order):
            if principal.can(item.permission):
                sections.setdefault(item.section, []).append(item)
        return list(sections.items())

    def active_url(self, path: str) -> str | None:
        """The one item a page belongs to: the longest item URL that is the page or a folder above it
        (``/integration/quality/core`` is Data quality, not Sources at ``/integration``)."""
        best: str | None = None
        for item in self.items:
            inside = path == item.url or (item.url != "/" and path.startswith(item.url.rstrip("/") + "/"))
            if inside and (best is None or len(item.url) > len(best)):
                best = item.url
        return best


def request_locale(request: Request) -> str:
    cached = getattr(request.state, "locale", None)
    if cached:
        return str(cached)
    locale = normalise_locale(request.cookies.get(LOCALE_COOKIE) or request.app.state.settings.default_locale)
    request.state.locale = locale
    return locale


def translator(request: Request) -> Translator:
    return Translator(request_locale(request))


def is_htmx(request: Request) -> bool:
    return request.headers.get("hx-request") == "true"


def _relative_hint(moment: datetime | None, translate: Translator) -> str:
    """'3 days ago' beside a date, never instead of it (UI.md)."""
    if moment is None:
        return ""
    seconds = int((datetime.now(UTC) - moment).total_seconds())
    if seconds < 60:
        return translate.gettext("just now")
    if seconds < 3600:
        return translate.gettext("%(num)s min ago", num=seconds // 60)
    if seconds < 86400:
        return translate.gettext("%(num)s h ago", num=seconds // 3600)
    return translate.gettext("%(num)s days ago", num=seconds // 86400)


def _duration(start: datetime | None, end: datetime | None, translate: Translator) -> str:
    """How long something ran (a batch): seconds with a tenth below a minute, then minutes and
    seconds, then hours and minutes; a dash while it has not finished."""
    if start is None or end is None:
        return "—"
    seconds = max((end - start).total_seconds(), 0.0)
    if seconds < 60:
        return translate.gettext("%(num)s s", num=f"{seconds:.1f}")
    whole = round(seconds)
    if whole < 3600:
        return translate.gettext("%(min)s min %(sec)s s", min=whole // 60, sec=f"{whole % 60:02d}")
    return translate.gettext("%(h)s h %(min)s min", h=whole // 3600, min=f"{whole % 3600 // 60:02d}")


def build_environment() -> Environment:
    environment = Environment(
        loader=FileSystemLoader(TEMPLATE_DIR),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters.update(
        money=format_money,
        number=format_number,
        datetime=format_datetime,
        date=format_date,
    )
    return environment


ContextProcessor = Callable[[Request, Principal | None], Mapping[str, Any]]
# A home-page widget: given the request, its database session and the principal, the widget's HTML,
# or None when it does not apply to this principal. Modules register them; identity's home page shows them.
WidgetProvider = Callable[[Request, Any, Principal], Markup | None]


@dataclass(frozen=True)
class HomeWidget:
    key: str
    provider: WidgetProvider
    order: int = 50
    replaces: tuple[str, ...] = ()  # placeholder widgets of the home page this one makes obsolete


@dataclass
class HomeWidgets:
    widgets: list[HomeWidget] = field(default_factory=list)

    def register(self, *widgets: HomeWidget) -> None:
        self.widgets.extend(widgets)

    def render(self, request: Request, session: Any, principal: Principal) -> tuple[list[Markup], set[str]]:
        rendered: list[Markup] = []
        replaced: set[str] = set()
        for widget in sorted(self.widgets, key=lambda w: w.order):
            html = widget.provider(request, session, principal)
            if html is not None:
                rendered.append(html)
                replaced.update(widget.replaces)
        return rendered, replaced


@dataclass
class AuditLabels:
    """Audit codes in words (message ids, translated where shown), contributed by the modules that
    write them, so the audit viewer and the home page's recent changes name every module's actions.

    Kept in Python rather than as dicts in the template: a dict literal in a macro translated all
    of its fifty labels each time one was shown, a tenth of the administrator's home page.
    """

    actions: dict[str, str] = field(default_factory=dict)
    entities: dict[str, str] = field(default_factory=dict)
    fields: dict[str, str] = field(default_factory=dict)

    def add(
        self,
        *,
        actions: Mapping[str, str] | None = None,
        entities: Mapping[str, str] | None = None,
        fields: Mapping[str, str] | None = None,
    ) -> None:
        self.actions.update(actions or {})
        self.entities.update(entities or {})
        self.fields.update(fields or {})


class Renderer:
    def __init__(self, navigation: Navigation) -> None:
        self.environment = build_environment()
        self.navigation = navigation
        self.context_processors: list[ContextProcessor] = []
        self.home_widgets = HomeWidgets()
        self.audit_labels = AuditLabels()

    def fragment(
        self, request: Request, template: str, context: Mapping[str, Any], *, principal: Principal | None
    ) -> Markup:
        """A template rendered to HTML for embedding (e.g. a home widget), with the page context."""
        page_context = self.base_context(request, principal)
        for processor in self.context_processors:
            page_context.update(processor(request, principal))
        page_context.update(context)
        return Markup(self.environment.get_template(template).render(page_context))  # noqa: S704 - autoescaped

    def add_context_processor(self, processor: ContextProcessor) -> None:
        """Modules add values every page needs (e.g. identity: role labels) without web importing them."""
        self.context_processors.append(processor)

    def base_context(self, request: Request, principal: Principal | None) -> dict[str, Any]:
        translate = translator(request)
        locale = translate.locale
        return {
            "request": request,
            "principal": principal,
            "locale": locale,
            "locales": LOCALE_LABELS,
            "_": translate.markup_gettext,
            "gettext": translate.markup_gettext,
            "t": translate.gettext,
            "csrf_token": csrf_token(request),
            "flash": pop_flash(request),
            "navigation": self.navigation.for_principal(principal),
            "audit_labels": self.audit_labels,
            "current_path": request.url.path,
            "active_nav_url": self.navigation.active_url(request.url.path),
            "compact_money": lambda amount, currency="CNY": format_compact_money(amount, locale, currency),
            "relative": lambda moment: _relative_hint(moment, translate),
            "duration": lambda start, end: _duration(start, end, translate),
            "query_with": lambda **changes: _query_with(request, changes),
            "is_htmx": is_htmx(request),
            "today": business_today(),  # the bank's date (Beijing), not the server's
        }

    def render(
        self,
        request: Request,
        template: str,
        context: Mapping[str, Any] | None = None,
        *,
        principal: Principal | None = None,
        status_code: int = 200,
        headers: Mapping[str, str] | None = None,
    ) -> HTMLResponse:
        page_context = self.base_context(request, principal)
        for processor in self.context_processors:
            page_context.update(processor(request, principal))
        page_context.update(context or {})
        html = self.environment.get_template(template).render(page_context)
        return HTMLResponse(html, status_code=status_code, headers=dict(headers or {}))


def page(
    request: Request,
    template: str,
    context: Mapping[str, Any] | None = None,
    *,
    principal: Principal | None,
    status_code: int = 200,
) -> HTMLResponse:
    """Render a template with the app's renderer (the usual last line of an HTML route)."""
    renderer: Renderer = request.app.state.renderer
    return renderer.render(request, template, context, principal=principal, status_code=status_code)


def _query_with(request: Request, changes: Mapping[str, Any]) -> str:
    """The current query string with some parameters replaced (for paging and sorting links)."""
    params = dict(request.query_params.items())
    for key, value in changes.items():
        if value is None:
            params.pop(key, None)
        else:
            params[key] = str(value)
    return "?" + urlencode(params)


def redirect(request: Request, url: str, *, flash: tuple[str, str] | None = None, **params: Any) -> Response:
    """Post/redirect/get. For HTMX requests the browser is told to navigate with ``HX-Redirect``."""
    response: Response
    if is_htmx(request):
        response = Response(status_code=204, headers={"HX-Redirect": url})
    else:
        response = RedirectResponse(url, status_code=303)
    if flash:
        set_flash(request, response, flash[0], flash[1], **params)
    return response


def money_cell(amount: Decimal | None, currency: str = "CNY") -> Markup:
    return Markup('<span class="num">{}</span>').format(format_money(amount, currency))
