// The page's scripts. Each section starts with a line "// == name"; the comment
// lines right under it say what it is for. kling/app/scripts.py reads this file when the page is
// built and fills in the __NAMES__ below: __WORDS__ is the "words" section (the page's words in
// the browser's language, from kling/strings.py), the others are values from the Python side.

// == words
const words = (__SCRIPT__)[
  (navigator.language || "").toLowerCase().startsWith("zh") ? "zh" : "en"];
const say = (key, values = {}) => words[key].replace(/{(\w+)}/g, (_, name) => String(values[name]));

// == page_url
// A link is built by `Visitor.link` from the page's address, which only the browser knows.
(url, ...settings) => [window.location.href, ...settings]

// == copy
async (url) => {
  __WORDS__
  try { await navigator.clipboard.writeText(url); return say("copied"); }
  catch (e) { return say("copy_failed"); }
}

// == count
// Counted as Python counts (code points), so the counter and the refusal agree on an emoji or a
// Chinese character: each is one.
(text) => {
  __WORDS__
  const count = [...(text || "")].length, limit = __PROMPT_MAX_CHARS__;
  return count > limit ? say("count_over", {count, limit, over: count - limit}) : say("count", {count, limit});
}

// == title
// A finished clip renames the browser tab, so a visitor who went to another tab notices.
(status) => {
  __WORDS__
  const s = status || "";
  document.title = s.startsWith("### ⏳") ? say("title_running")
    : s.startsWith("### ✅") ? say("title_done")
    : s.startsWith("### ❌") ? say("title_failed") : "__TITLE__";
  return status;
}

// == player_shape
// The empty player is the frame of the clip to come: Text to Video's chosen aspect ratio gives
// it its shape (style.css reads --kling-aspect), so the clip fills it without moving the page.
(ratio) => {
  const [w, h] = String(ratio || "16:9").split(":").map(Number);
  document.querySelectorAll(".kling-t2v-result").forEach((el) => el.style.setProperty("--kling-aspect", `${w} / ${h}`));
  return ratio;
}

// == reveal
// What a click changed comes into view when it is not wholly on screen: the form an example filled (the
// examples are under it), the status after Generate on a phone (the form is above it), the tab
// "Use this one" filled. __SELECTOR__ is looked up in the tab shown once Gradio has drawn it.
() => {
  const show = () => {
    const tab = [...document.querySelectorAll('[role="tabpanel"]')].find((el) => el.offsetParent);
    const target = tab && (__SELECTOR__ ? tab.querySelector(__SELECTOR__) : tab);
    if (!target) return;
    const box = target.getBoundingClientRect();
    if (box.top < 0 || box.bottom > window.innerHeight) target.scrollIntoView({block: "start"});
  };
  requestAnimationFrame(() => requestAnimationFrame(show));
}

// == posters
// Before the first run each generate tab's empty player shows its first example's still, captioned
// as an example (style.css draws both from these variables, also in a tab Gradio draws later).
() => {
  __WORDS__
  const root = document.documentElement, base = window.location.origin + window.location.pathname;
  for (const [tab, url] of Object.entries(__POSTERS__)) {
    root.style.setProperty(`--kling-poster-${tab}`, `url("${new URL(url, base).href}")`);
    root.style.setProperty(`--kling-poster-caption-${tab}`, JSON.stringify(say("poster_caption")));
    root.classList.add(`kling-poster-${tab}`);  // style.css hides the empty player's icon over it
  }
}

// == play_all
() => {
  document.querySelectorAll(".kling-lab-grid video").forEach((v) => { v.currentTime = 0; v.play(); });
}

// == live_region
// Screen readers announce the run's progress and its refusals (Markdown takes no ARIA attributes).
// Gradio draws some of them after the load event (a tab opened later): an observer marks those too.
() => {
  const mark = () => document.querySelectorAll(".block.kling-status:not([aria-live])")
    .forEach((el) => el.setAttribute("aria-live", "polite"));
  mark();
  new MutationObserver(mark).observe(document.body, {childList: true, subtree: true});
}

// == toast_titles
// Gradio 6 titles a toast with its kind ("Error", "Warning", "Info"), whatever title the server
// gave: the title is put in the page's language here, as each toast is drawn.
() => {
  __WORDS__
  const retitle = () => document.querySelectorAll(".toast-title").forEach((el) => {
    const kind = el.textContent.trim();
    const said = words["toast_" + kind];
    if (said && said !== kind) el.textContent = said;
  });
  new MutationObserver(retitle).observe(document.body, {childList: true, subtree: true, characterData: true});
}

// == compose
// The director's brief replaces a typed prompt only once the visitor agreed.
(...values) => {
  __WORDS__
  const prompt = values[values.length - 1];
  if (prompt && prompt.trim() && confirm(say("replace_prompt"))) {
    values[values.length - 1] = "";
  }
  return values;
}

// == camera_move
// One camera move at a time: the chosen phrase replaces any move added before.
(p) => {
  let text = p || "";
  for (const move of __MOVES__) text = text.split(move).join("");
  text = text.replace(/ {2,}/g, " ").trim();
  return (text ? text + " " : "") + __PHRASE__;
}
