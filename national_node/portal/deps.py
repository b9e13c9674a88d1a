"""What the routers are given (FastAPI dependencies): the portal's parts, its settings, its templates."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.templating import Jinja2Templates

from national_node.portal.service import Portal
from national_node.settings import PortalSettings

__all__ = ["PortalDep", "SettingsDep", "TemplatesDep"]


def get_portal(request: Request) -> Portal:
    portal: Portal = request.app.state.portal
    return portal


def get_settings(portal: Annotated[Portal, Depends(get_portal)]) -> PortalSettings:
    return portal.settings


def get_templates(request: Request) -> Jinja2Templates:
    templates: Jinja2Templates = request.app.state.templates
    return templates


PortalDep = Annotated[Portal, Depends(get_portal)]
SettingsDep = Annotated[PortalSettings, Depends(get_settings)]
TemplatesDep = Annotated[Jinja2Templates, Depends(get_templates)]
