"""The visitor: a browser arriving (its signed id and saved key restored, the page in its
language), saving or clearing its own key, a shared link that fills a form, and the link a result
panel copies. The key panel's builder and the wiring of all this are here too.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Any

import gradio as gr
import httpx
from gradio.utils import get_space

from kling.app.key_check import Checked, KeyChecks, unchecked_key
from kling.app.link_note import image_note
from kling.app.opening import Opening
from kling.app.scripts import script
from kling.app.tabs.common import Session, Updates, lang_of, private, private_with_notices, progress_on
from kling.app.tabs.generate import Generation
from kling.app.views import (
    SHARED_SETTINGS,
    key_status,
    mode_banner,
    price_text,
    settings_from_query,
    share_link,
    video_label,
)
from kling.app.widgets import KeyPanel, Parts, thumbnails
from kling.config import Settings
from kling.errors import AuthenticationError, KlingError
from kling.examples import STARTERS, T2V_EXAMPLES
from kling.store.showcase import ShowcaseClip
from kling.strings import language, say, text


class Visitor:
    """A browser arriving, saving or clearing its key, and following a shared link."""

    def __init__(
        self,
        generation: Generation,
        parts: Parts,
        showcase: dict[str, ShowcaseClip] | None = None,
    ) -> None:
        self.g = generation
        self.parts = parts
        self.showcase = showcase or {}
        self.opening = Opening()  # what the other parts of the page say in the opening answer
        # Asking WaveSpeed about a key, per visitor and per address, answers kept by fingerprint.
        self.checks = KeyChecks(generation.settings.key_checks_per_minute)

    async def restore(
        self,
        token: str | None,
        saved_key: str | None,
        i2v_duration: int | str,
        t2v_duration: int | str,
        request: gr.Request | None = None,
        profile: gr.OAuthProfile | None = None,
    ) -> Updates:
        """The browser's stored id, checked: a forged or missing one is replaced by a fresh signed
        one, which the browser stores. The session keeps the token, never an owner."""
        who = await self.g.who(request, profile, {"token": token or ""})
        lang = language(request.headers.get("accept-language") if request is not None else None)
        session = {"token": who.browser_token or "", "key": (saved_key or "").strip(), "lang": lang}
        if session["key"]:
            # Tasks paid with this browser's own key can only resume now that the key is back.
            self.g.runner.resume_unfinished(owner=who.owner, user_key=session["key"])
        updates = {self.parts.owner_store: who.browser_token, **self._session(session, i2v_duration, t2v_duration)}
        if lang != "en":  # the examples' captions (and alt texts) were built in English
            updates[self.parts.i2v.examples] = gr.Gallery(thumbnails(STARTERS, self.showcase, lang))
            updates[self.parts.t2v.examples] = gr.Gallery(thumbnails(T2V_EXAMPLES, self.showcase, lang))
        return updates

    async def arrive(
        self,
        token: str | None,
        saved_key: str | None,
        i2v_duration: int | str,
        t2v_duration: int | str,
        request: gr.Request | None = None,
        profile: gr.OAuthProfile | None = None,
    ) -> Updates:
        """Everything the page's opening needs from the server, in one answer (kling.app.opening):
        `restore`, the form a link fills (`prefill`), the note that a link carries no start image,
        then what the other parts of the page added to `self.opening`."""
        updates = await self.restore(token, saved_key, i2v_duration, t2v_duration, request, profile)
        updates |= self.prefill(request) | {self.parts.i2v.out.status: image_note(request)}
        return await self.opening.updates(updates[self.parts.session], request, profile, updates)

    async def save_key(
        self,
        typed: str | None,
        session: Session | None,
        i2v_duration: int | str,
        t2v_duration: int | str,
        request: gr.Request | None = None,
        profile: gr.OAuthProfile | None = None,
    ) -> Updates:
        """Check the key with WaveSpeed (its balance, which is free) before keeping it: a refused
        key leaves the page as it was, in the mode it really is in. A key checked a moment ago is
        answered from memory; past the checks a visitor and an address may ask for, nothing is sent."""
        key, session = (typed or "").strip(), session or {}
        lang = lang_of(session)
        if not key:  # nothing to save: the key already saved stays
            gr.Warning(say(lang, "key.paste_first"), title=say(lang, "notice.title"))
            return {self.parts.key.box: gr.skip()}
        checked = self.checks.known(key)
        if checked is None:
            wait = self.checks.take(await self.g.who(request, profile, session))
            if wait > 0:
                return self._busy(session, wait, i2v_duration, t2v_duration)
            checked = await self._ask(key)
        if checked is not None and not checked.accepted:
            kept = session.get("key", "")
            return {
                self.parts.key.box: gr.skip(),  # the typed text stays, so a typo can be fixed
                **self._session(session, i2v_duration, t2v_duration),
                self.parts.key.info: key_status(self.g.settings, kept, refused=True, lang=lang),
            }
        if checked is None:  # WaveSpeed out of reach: the key may be fine
            gr.Warning(say(lang, "key.unchecked"), title=say(lang, "notice.title"))
            return {
                self.parts.key_store: key,
                self.parts.key.box: "",
                **self._session({**session, "key": key}, i2v_duration, t2v_duration),
                **unchecked_key(self.parts, key, lang),  # said in the banner and the panel until checked
            }
        updates = {
            self.parts.key_store: key,
            self.parts.key.box: "",
            **self._session({**session, "key": key}, i2v_duration, t2v_duration),
        }
        updates[self.parts.key.info] = key_status(self.g.settings, key, checked.balance, lang=lang)
        return updates

    async def _ask(self, key: str) -> Checked | None:
        """WaveSpeed's answer for `key` (its balance, or a 401), kept for the next check of the same
        key; None when WaveSpeed could not be asked (nothing kept: the next check asks again)."""
        try:
            checked = Checked(True, await self.g.runner.backend.client(key).balance())
        except AuthenticationError:
            checked = Checked(False)
        except (KlingError, httpx.HTTPError):
            return None
        self.checks.remember(key, checked)
        return checked

    def _busy(self, session: Session, wait_s: float, i2v_duration: int | str, t2v_duration: int | str) -> Updates:
        """Too many checks: the typed key stays in the box, nothing was sent, the page is as it was."""
        lang = lang_of(session)
        kept = key_status(self.g.settings, session.get("key", ""), lang=lang)
        return {
            self.parts.key.box: gr.skip(),
            **self._session(session, i2v_duration, t2v_duration),
            self.parts.key.info: f"{self.checks.refusal(lang, wait_s)} {kept}",
        }

    def clear_key(self, session: Session | None, i2v_duration: int | str, t2v_duration: int | str) -> Updates:
        return {
            self.parts.key_store: "",
            self.parts.key.box: "",
            **self._session({**(session or {}), "key": ""}, i2v_duration, t2v_duration),
        }

    def _session(self, session: Session, i2v_duration: int | str, t2v_duration: int | str) -> Updates:
        """The session, and everything on the page that depends on live or preview: banner, key
        note, prices, clip labels."""
        p, key, preview, lang = self.parts, session.get("key", ""), self.g.preview(session), lang_of(session)
        guard = self.g.runner.guard
        label = video_label(preview, lang)
        return {
            p.session: session,
            p.banner: mode_banner(self.g.settings, key, guard.budget_left_cents() if guard else None, lang),
            p.key.info: key_status(self.g.settings, key, lang=lang),
            p.i2v.buttons.price: price_text(i2v_duration, preview, lang),
            p.t2v.buttons.price: price_text(t2v_duration, preview, lang),
            p.i2v.out.video: gr.Video(label=label),
            p.t2v.out.video: gr.Video(label=label),
        }

    def link(self, tab: str, page_url: str, *values: Any) -> str:
        """A link to this page with the tab's settings (the order of SHARED_SETTINGS[tab])."""
        return share_link(page_url, tab, dict(zip(SHARED_SETTINGS[tab], values)))

    def prefill(self, request: gr.Request | None = None) -> Updates:
        """Fill the form from a shared link's query parameters."""
        found = settings_from_query(dict(request.query_params) if request is not None else {})
        tab = found["tab"] or ("t2v" if "aspect_ratio" in found else "i2v" if len(found) > 1 else None)
        # Never an empty dict: Gradio would take it for one output value, not for "no updates".
        updates: Updates = {self.parts.tabs: gr.Tabs(selected=tab) if tab else gr.skip()}
        if tab == "i2v":
            updates |= self.parts.i2v.fill(found)
        elif tab == "t2v":
            updates |= self.parts.t2v.fill(found)
        return updates


@dataclass
class Header:
    """Above the tabs: what the browser keeps, the session, the live-or-preview banner, the key panel."""

    owner_store: gr.BrowserState
    key_store: gr.BrowserState
    session: gr.State
    banner: gr.Markdown
    key: KeyPanel


def build_header(settings: Settings, storage_secret: str) -> Header:
    """The heading, the sign-in button (on a Space with OAuth), the banner and the key panel."""
    # The browser keeps the id this server signed (kling.app.identity); the page never trusts it unchecked.
    owner_store = gr.BrowserState(None, storage_key="kling-studio-owner", secret=storage_secret)
    key_store = gr.BrowserState("", storage_key="kling-studio-key", secret=storage_secret)
    session = gr.State({"token": "", "key": ""})
    gr.Markdown(text("heading"))
    if settings.sign_in and get_space() is not None:
        # Only on a Space with hf_oauth (and Gradio agreeing it is one): elsewhere Gradio's local
        # stand-in asks huggingface.co who you are as soon as the page is built.
        gr.LoginButton(str(text("sign_in")))  # a str: the marked key, which the page translates
    banner = gr.Markdown(mode_banner(settings, ""), elem_id="mode-banner")
    with gr.Accordion(text("key.title"), open=False):
        box = gr.Textbox(label=text("key.label"), type="password", info=text("key.help"), placeholder="wsk_...")
        with gr.Row():
            save = gr.Button(text("key.save"), size="sm")
            clear = gr.Button(text("key.clear"), size="sm")
        info = gr.Markdown(key_status(settings, ""))
    return Header(owner_store, key_store, session, banner, KeyPanel(box, save, clear, info))


def wire_visitor(demo: gr.Blocks, p: Parts, visitor: Visitor) -> None:
    """Who is visiting: their browser id and key come back; the page shows live or preview; a shared
    link fills its form. Wired last: the opening answer also writes what the other parts of the page
    added to `visitor.opening`."""
    durations = [p.i2v.duration, p.t2v.duration]
    mode_view = [p.session, p.banner, p.key.info, p.i2v.buttons.price, p.t2v.buttons.price]
    mode_view += [p.i2v.out.video, p.t2v.out.video]
    galleries = [p.i2v.examples, p.t2v.examples]  # their captions, in the browser's language
    opened = [p.owner_store, *mode_view, *galleries, *p.main_forms, p.i2v.out.status, *visitor.opening.outputs]
    opened = list(dict.fromkeys(opened))  # each component once: a link's note and a reload both write the status
    # No overlay on its thirty outputs, and its loading status on the banner alone, not the tabs.
    quiet = progress_on(p.banner, hidden=True)
    demo.load(visitor.arrive, [p.owner_store, p.key_store, *durations], opened, **quiet, **private())
    key_outputs = [p.key_store, p.key.box, *mode_view]
    p.key.save.click(visitor.save_key, [p.key.box, p.session, *durations], key_outputs, **private_with_notices())
    p.key.clear.click(visitor.clear_key, [p.session, *durations], key_outputs, **private())


def wire_links(p: Parts, visitor: Visitor) -> None:
    """Each result panel's "Copy link": the tab's settings in the page's address, then the clipboard."""
    for tab, form, third in (("i2v", p.i2v, p.i2v.guidance), ("t2v", p.t2v, p.t2v.aspect_ratio)):
        form.out.link_button.click(
            partial(visitor.link, tab),
            [form.out.link, form.text.prompt, form.text.negative, third, form.duration],
            form.out.link,
            js=script("page_url"),
            **private(),
        ).then(None, form.out.link, form.out.link_button, js=script("copy"), **private())
