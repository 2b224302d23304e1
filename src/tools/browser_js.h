/* browser_js.h — the JavaScript the browser tools run in the page.
 *
 * Actions are written once in the page's own language, so every engine of
 * the browser seam runs the same ones through its eval.  Each is a function
 * expression applied to one argument object (the tool's arguments as JSON),
 * returning a JSON-able value; {error: "…"} reports a failure the tool turns
 * into a clear message.  Elements are found by CSS selector, by visible
 * text, or by the ref browser_read handed out (data-errand-ref). */
#ifndef ERRAND_BROWSER_JS_H
#define ERRAND_BROWSER_JS_H

/* Helpers every action starts with. */
#define BJS_PRELUDE                                                                                                                                          \
    "const vis = e => { const r = e.getBoundingClientRect(), s = getComputedStyle(e);"                                                                       \
    "  return r.width > 0 && r.height > 0 && s.visibility !== 'hidden' && s.display !== 'none'; "                                                            \
    "};"                                                                                                                                                     \
    "const norm = s => (s || '').replace(/\\s+/g, ' ').trim();"                                                                                              \
    "const label = e => norm(e.innerText || e.value || e.getAttribute('aria-label') ||"                                                                      \
    "  e.getAttribute('title') || e.getAttribute('placeholder') || e.getAttribute('alt'));"                                                                  \
    "const desc = e => ({ tag: e.tagName.toLowerCase(), text: label(e).slice(0, 80) });"                                                                     \
    "const find = a => {"                                                                                                                                    \
    "  const sel = a.ref ? '[data-errand-ref=\"' + String(a.ref).replace(/\"/g, '') + '\"]' : "                                                              \
    "a.selector;"                                                                                                                                            \
    "  let list;"                                                                                                                                            \
    "  try { list = Array.from(document.querySelectorAll(sel || 'a,button,input,select,textarea,"                                                            \
    "label,summary,[role=button],[role=link],[role=tab],[onclick]')); }"                                                                                     \
    "  catch (x) { return { error: 'bad CSS selector: ' + sel }; }"                                                                                          \
    "  if (a.text) { const t = norm(a.text).toLowerCase();"                                                                                                  \
    "    let m = list.filter(e => label(e).toLowerCase().includes(t));"                                                                                      \
    "    if (!m.length && !sel) m = Array.from(document.querySelectorAll('body *'))"                                                                         \
    "      .filter(e => e.children.length === 0 && label(e).toLowerCase().includes(t));"                                                                     \
    "    list = m; }"                                                                                                                                        \
    "  return { el: list.filter(vis)[0] || null, count: list.length, sel: sel }; };"                                                                         \
    "const what = a => a.ref ? 'ref ' + a.ref : (a.selector ? 'selector ' + a.selector : '')"                                                                \
    "  + (a.text ? (a.selector ? ' with ' : '') + 'text \"' + a.text + '\"' : '');" /* Waits until the element is there, visible and stable (no animation */ \
    /* running in the document, or else the same box over one animation */ /* frame), or the timeout passes. */                                              \
    "const waitFind = a => new Promise(res => { const t0 = Date.now();"                                                                                      \
    "  const again = () => Date.now() - t0 > a.timeout ? res({ el: null, timeout: true })"                                                                   \
    "    : setTimeout(tick, 40);"                                                                                                                            \
    "  const still = () => !document.getAnimations ||"                                                                                                       \
    "    document.getAnimations().every(x => x.playState !== 'running');"                                                                                    \
    "  function tick() { const f = find(a); if (f.error) return res(f);"                                                                                     \
    "    if (!f.el) return again(); if (still()) return res(f);"                                                                                             \
    "    const r1 = f.el.getBoundingClientRect();"                                                                                                           \
    "    requestAnimationFrame(() => { const r2 = f.el.getBoundingClientRect();"                                                                             \
    "      if (r1.x === r2.x && r1.y === r2.y && r1.width === r2.width && r1.height === "                                                                    \
    "r2.height)"                                                                                                                                             \
    "        res(f); else again(); }); }"                                                                                                                    \
    "  tick(); });"                                                                                                                                          \
    "const missing = (a, f) => f.error ? f : { error: 'no visible element matches ' + what(a) +"                                                             \
    "  ' (waited ' + a.timeout + ' ms)', notfound: true };"

#define BJS_ACTION(body) "(async a => { " BJS_PRELUDE body " })"

/* The element's box in document coordinates, after scrolling it into view
 * (lazy content below the fold is then laid out). */
static const char bjs_box[] =
    BJS_ACTION("const f = await waitFind(a); if (!f.el) return missing(a, f);"
               "f.el.scrollIntoView({ block: 'center', inline: 'center' });"
               "const r = f.el.getBoundingClientRect();"
               "return { tag: f.el.tagName.toLowerCase(), x: r.left + window.scrollX,"
               "  y: r.top + window.scrollY, width: r.width, height: r.height };");

static const char bjs_click[] =
    BJS_ACTION("const f = await waitFind(a); if (!f.el) return missing(a, f);"
               "f.el.scrollIntoView({ block: 'center', inline: 'center' });"
               "if (f.el.focus) f.el.focus(); f.el.click();"
               "return { clicked: desc(f.el) };");

static const char bjs_type[] = BJS_ACTION(
    "const f = await waitFind(a); if (!f.el) return missing(a, f); const e = f.el;"
    "e.scrollIntoView({ block: 'center' }); if (e.focus) e.focus();"
    "if (e.isContentEditable) e.textContent = (a.clear === false ? e.textContent : '') + a.value;"
    "else if ('value' in e && e.tagName !== 'SELECT') {"
    "  const d = Object.getOwnPropertyDescriptor(Object.getPrototypeOf(e), 'value');"
    "  const v = (a.clear === false ? e.value : '') + a.value;"
    "  if (d && d.set) d.set.call(e, v); else e.value = v; }"
    "else return { error: 'the element (' + e.tagName.toLowerCase() + ') is not a text field' };"
    "e.dispatchEvent(new Event('input', { bubbles: true }));"
    "e.dispatchEvent(new Event('change', { bubbles: true }));"
    "if (a.submit) { e.dispatchEvent(new KeyboardEvent('keydown', { key: 'Enter', bubbles: true "
    "}));"
    "  if (e.form) { if (e.form.requestSubmit) e.form.requestSubmit(); else e.form.submit(); } }"
    "return { typed: desc(e), chars: a.value.length, submitted: !!a.submit };");

static const char bjs_select[] = BJS_ACTION(
    "const f = await waitFind(a); if (!f.el) return missing(a, f); const e = f.el;"
    "if (e.tagName !== 'SELECT') return { error: 'the element is a ' + e.tagName.toLowerCase() +"
    "  ', not a select list' };"
    "const o = Array.from(e.options).find(o => o.value === a.value || norm(o.text) === "
    "norm(a.value));"
    "if (!o) return { error: 'the list has no option \"' + a.value + '\"; it has: ' +"
    "  Array.from(e.options).map(o => norm(o.text)).join(', ') };"
    "e.value = o.value; e.dispatchEvent(new Event('input', { bubbles: true }));"
    "e.dispatchEvent(new Event('change', { bubbles: true }));"
    "return { selected: { value: o.value, text: norm(o.text) } };");

static const char bjs_wait[] =
    BJS_ACTION("if (a.state === 'hidden') { const t0 = Date.now();"
               "  while (find(a).el) { if (Date.now() - t0 > a.timeout)"
               "    return { error: what(a) + ' is still visible after ' + a.timeout + ' ms' };"
               "    await new Promise(r => setTimeout(r, 40)); }"
               "  return { hidden: true }; }"
               "const f = await waitFind(a); if (!f.el) return missing(a, f);"
               "return { visible: desc(f.el), matches: f.count };");

static const char bjs_scroll[] = BJS_ACTION(
    "const sleep = ms => new Promise(r => setTimeout(r, ms));"
    "const H = () => document.documentElement.scrollHeight;"
    "const state = grew => ({ scroll_y: Math.round(scrollY), height: H(),"
    "  viewport: innerHeight, at_bottom: scrollY + innerHeight >= H() - 2, grew: grew });"
    "if (a.selector || a.text || a.ref) { const f = await waitFind(a);"
    "  if (!f.el) return missing(a, f); f.el.scrollIntoView({ block: 'center' }); return state(0); "
    "}"
    "if (a.to === 'top') { scrollTo(0, 0); return state(0); }"
    "if (a.to === 'bottom') { let grew = 0;"
    "  for (let i = 0; i < a.times; i++) { const h = H(); scrollTo(0, h); await sleep(a.pause);"
    "    if (H() > h) grew++; else break; }"
    "  return state(grew); }"
    "scrollBy(0, a.by); await sleep(30); return state(0);");

static const char bjs_read[] = BJS_ACTION(
    "const root = a.selector ? document.querySelector(a.selector) : document.body;"
    "if (!root) return { error: a.selector ? 'no element matches selector ' + a.selector"
    "  : 'the page has no body' };"
    "const links = Array.from(root.querySelectorAll('a[href]')).filter(vis).slice(0, 40)"
    "  .map(l => ({ text: norm(l.innerText).slice(0, 100), url: l.href }));"
    "const els = Array.from(root.querySelectorAll('a[href],button,input,select,textarea,"
    "[role=button],[contenteditable=true]')).filter(e => vis(e) && e.type !== 'hidden').slice(0, "
    "80)"
    "  .map(e => { let r = e.getAttribute('data-errand-ref');"
    "    if (!r) { window.__errandRef = (window.__errandRef || 0) + 1; r = "
    "String(window.__errandRef);"
    "      e.setAttribute('data-errand-ref', r); }"
    "    const o = { ref: r, tag: e.tagName.toLowerCase(), text: label(e).slice(0, 80) };"
    "    if (e.type && e.tagName === 'INPUT') o.type = e.type; if (e.name) o.name = e.name;"
    "    return o; });"
    "return { url: location.href, title: document.title, text: root.innerText || '',"
    "  links: links, elements: els };");

static const char bjs_extract[] = BJS_ACTION(
    "const all = s => { try { return Array.from(document.querySelectorAll(s)); }"
    "  catch (x) { return null; } };"
    "if (a.kind === 'table') { const t = all(a.selector || 'table');"
    "  if (!t) return { error: 'bad CSS selector: ' + a.selector };"
    "  if (!t.length) return { error: 'no table matches ' + (a.selector || 'table') };"
    "  let head = null; const rows = [];"
    "  for (const tr of t[0].querySelectorAll('tr')) {"
    "    const cells = Array.from(tr.children).filter(c => c.tagName === 'TD' || c.tagName === "
    "'TH');"
    "    const v = cells.map(c => norm(c.innerText)); if (!v.length) continue;"
    "    if (!head && cells.every(c => c.tagName === 'TH')) { head = v; continue; }"
    "    if (head) { const o = {}; head.forEach((h, i) => o[h || 'col' + (i + 1)] = v[i] ?? '');"
    "      rows.push(o); } else rows.push(v); }"
    "  return { rows: rows.slice(0, a.limit), total: rows.length }; }"
    "if (a.kind === 'meta') { const ld = [];"
    "  document.querySelectorAll('script[type=\"application/ld+json\"]').forEach(s => {"
    "    try { ld.push(JSON.parse(s.textContent)); } catch (x) {} });"
    "  const og = {}; document.querySelectorAll('meta[property^=\"og:\"],meta[name^=\"twitter:\"]')"
    "    .forEach(m => og[m.getAttribute('property') || m.getAttribute('name')] = m.content);"
    "  const d = document.querySelector('meta[name=description]');"
    "  return { rows: [{ title: document.title, description: d ? d.content : null,"
    "    json_ld: ld, opengraph: og }], total: 1 }; }"
    "const list = all(a.kind === 'links' ? (a.selector || 'a[href]') : a.selector);"
    "if (!list) return { error: 'bad CSS selector: ' + a.selector };"
    "const get = (root, spec) => { const at = spec.lastIndexOf('@');"
    "  const sel = at >= 0 ? spec.slice(0, at) : spec, attr = at >= 0 ? spec.slice(at + 1) : null;"
    "  let e = root; if (sel) { try { e = root.querySelector(sel); } catch (x) { e = null; } }"
    "  if (!e) return null; if (!attr) return norm(e.innerText);"
    "  return (attr === 'href' || attr === 'src') && e[attr] ? e[attr] : e.getAttribute(attr); };"
    "const rows = list.slice(0, a.limit).map(e => { if (a.fields) { const o = {};"
    "    for (const k in a.fields) o[k] = get(e, String(a.fields[k])); return o; }"
    "  const o = { text: norm(e.innerText) }; if (e.href) o.url = e.href; if (e.src) o.src = e.src;"
    "  return o; });"
    "return { rows: rows, total: list.length };");

/* A named session's local storage: read out, and put back into a page that
 * has none (true when it did; storage refused to the page is no error). */
static const char bjs_storage_get[] =
    "(() => { try { return { origin: location.origin, items: Object.assign({}, localStorage) }; }"
    " catch (x) { return null; } })()";
static const char bjs_storage_put[] =
    "(items => { try { if (localStorage.length) return false;"
    " for (const k in items) localStorage.setItem(k, String(items[k])); return true; }"
    " catch (x) { return false; } })";

static const char bjs_where[] = "({ url: location.href, title: document.title })";

#endif
