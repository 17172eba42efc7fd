/* reex embed: comments, the sign-up box and comment counts on the site's own pages.
 * Plain JavaScript, no build step. Renders in shadow roots; sets no cookie (every request
 * omits credentials); keeps the reader's pending comments, draft and (if asked) name and
 * email in the page's localStorage. Nothing here needs unsafe-inline or eval.
 * Guide: docs/embed.md. */
(() => {
  "use strict";
  const script = document.currentScript || document.querySelector("script[src*='/embed.js']");
  const BASE = new URL(script ? script.src : "/embed.js", location.href).origin;
  const TIMEOUT_MS = 15000;
  const PENDING_DAYS = 30;
  const AWAITING = "Your comment is awaiting moderation.";
  const DOWN = "The comment service is not answering right now. Your text is kept here: try again in a moment.";
  let uid = 0;

  // --- small helpers ----------------------------------------------------------------
  const h = (tag, attrs, ...children) => {
    const el = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === false || v == null) continue;
      if (k === "text") el.textContent = v;
      else if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
      else el.setAttribute(k, v === true ? "" : v);
    }
    el.append(...children.filter((c) => c != null));
    return el;
  };
  const store = {
    get(key, fallback) {
      try { return JSON.parse(localStorage.getItem("reex:" + key)) ?? fallback; } catch (e) { return fallback; }
    },
    set(key, value) {
      try {
        if (value == null) localStorage.removeItem("reex:" + key);
        else localStorage.setItem("reex:" + key, JSON.stringify(value));
      } catch (e) { /* storage full or blocked: the page still works */ }
    },
  };
  const REFUSED = { edit_window_closed: "The time to edit has passed.", has_replies: "Someone has replied." };
  const editable = (c) => !!(c.token && Date.parse(c.until) > Date.now());
  const plural = (n) => `${n} Comment${n === 1 ? "" : "s"}`;

  /** fetch without cookies, given up after TIMEOUT_MS; resolves to {status, data, retry} or
   * rejects when the service cannot be reached. */
  async function call(path, options = {}) {
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), TIMEOUT_MS);
    try {
      const headers = { Accept: "application/json" };
      if (options.body) headers["Content-Type"] = "application/json";
      if (options.token) headers["X-Reex-Edit-Token"] = options.token;
      const response = await fetch(BASE + path, {
        method: options.method || "GET",
        body: options.body ? JSON.stringify(options.body) : undefined,
        headers, credentials: "omit", mode: "cors", signal: abort.signal,
      });
      const type = response.headers.get("Content-Type") || "";
      const data = type.includes("json") ? await response.json() : await response.text();
      return { status: response.status, data, retry: parseInt(response.headers.get("Retry-After"), 10) || 0 };
    } finally {
      clearTimeout(timer);
    }
  }

  function shadowFor(host) {
    const root = host.shadowRoot || host.attachShadow({ mode: "open" });
    const box = h("div", { class: "reex", hidden: true });
    const show = () => { box.hidden = false; };
    const link = h("link", { rel: "stylesheet", href: BASE + "/embed.css", onload: show, onerror: show });
    root.replaceChildren(link, box);
    return box;
  }

  function whenNear(el, run) {
    if (!("IntersectionObserver" in window)) return run();
    const io = new IntersectionObserver((entries) => {
      if (entries.some((e) => e.isIntersecting)) { io.disconnect(); run(); }
    }, { rootMargin: "600px 0px" });
    io.observe(el);
  }

  // --- form fields and answers shared by both boxes ------------------------------------
  function field(form, name, label, input, required) {
    const id = `reex-${++uid}`;
    const error = h("span", { class: "reex-error", id: id + "-error", "aria-live": "polite" });
    Object.assign(input, { id, name });
    input.setAttribute("aria-describedby", id + "-error");
    if (required) input.required = true;
    form.fields[name] = { input, error };
    const text = h("label", { for: id }, label, required ? h("span", { class: "reex-required", "aria-hidden": "true", text: " *" }) : null);
    if (input.type === "checkbox") return h("p", { class: "reex-field reex-check" }, input, h("span", {}, text, error));
    return h("p", { class: "reex-field" }, text, input, error);
  }

  function clearErrors(form) {
    form.notice.textContent = "";
    form.notice.className = "reex-notice";
    for (const { input, error } of Object.values(form.fields)) {
      error.textContent = "";
      input.removeAttribute("aria-invalid");
    }
  }

  function say(form, text, kind) {
    form.notice.className = "reex-notice reex-" + kind;
    form.notice.setAttribute("role", kind === "error" ? "alert" : "status");
    form.notice.textContent = text;
  }

  /** Show a 400's messages next to their fields; the rest in the form's notice. */
  function showErrors(form, data) {
    let first = null;
    const other = [];
    for (const [name, messages] of Object.entries(data || {})) {
      const text = [].concat(messages).join(" ");
      const f = form.fields[name];
      if (!f) { other.push(text); continue; }
      f.error.textContent = text;
      f.input.setAttribute("aria-invalid", "true");
      first = first || f.input;
    }
    if (other.length) say(form, other.join(" "), "error");
    (first || form.notice).focus();
  }

  /** 429: say how long to wait, keep the button off until then. */
  function wait(form, seconds, message) {
    const button = form.button;
    let left = Math.max(1, seconds || 60);
    button.disabled = true;
    const tick = () => {
      if (left <= 0) {
        clearInterval(timer);
        button.disabled = false;
        say(form, "You can send it now.", "info");
        return;
      }
      form.notice.textContent = `${message || "Too many attempts."} Please wait ${left} second${left === 1 ? "" : "s"}.`;
      left -= 1;
    };
    say(form, "", "error");
    const timer = setInterval(tick, 1000);
    tick();
  }

  /** Send a form's payload; route every answer to its place. Returns the 2xx data or null.
   * A form with `conflict` takes the edit window's 409s ({detail, code}) itself. */
  async function send(form, path, payload, method, token) {
    clearErrors(form);
    form.button.disabled = true;
    form.el.setAttribute("aria-busy", "true");
    let answer;
    try {
      answer = await call(path, { method: method || "POST", body: payload, token });
    } catch (e) {
      answer = { status: 0 };
    } finally {
      form.button.disabled = false;
      form.el.removeAttribute("aria-busy");
    }
    const { status, data, retry } = answer;
    if (status >= 200 && status < 300) return data || {};
    if (status === 409 && form.conflict && data && data.code) return form.conflict(data), null;
    if (status === 400) showErrors(form, data);
    else if (status === 429) wait(form, retry, data && data.detail);
    else if (status === 0 || status >= 500) say(form, form.downMessage, "error");
    else say(form, status === 404 ? "Comments are not available for this page." : (data && data.detail) || `Error ${status}.`, "error");
    if (status !== 400) form.notice.focus();
    return null;
  }

  function makeForm(className, onSubmit) {
    const el = h("form", { class: className, novalidate: true });
    const notice = h("p", { class: "reex-notice", tabindex: "-1" });
    const form = { el, notice, fields: {}, button: null, downMessage: DOWN };
    el.addEventListener("submit", (event) => { event.preventDefault(); onSubmit(form); });
    return form;
  }

  // --- comments ---------------------------------------------------------------------
  class Comments {
    constructor(host) {
      this.host = host;
      this.key = host.dataset.reexComments;
      this.url = host.dataset.reexUrl || location.href.split("#")[0];
      this.title = host.dataset.reexTitle || document.title;
      const included = host.querySelector("[data-reex-thread]");
      this.box = shadowFor(host);
      if (included) this.show(included);
      else whenNear(host, () => this.load());
    }

    async load() {
      this.box.replaceChildren(h("p", { class: "reex-loading", role: "status", text: "Loading comments…" }));
      let answer;
      try {
        answer = await call(`/embed/articles/${encodeURIComponent(this.key)}/comments.html`);
      } catch (e) {
        answer = { status: 0 };
      }
      if (answer.status === 200) {
        const template = document.createElement("template");
        template.innerHTML = answer.data; // reex's own markup: bodies sanitised on the server
        const thread = template.content.querySelector("[data-reex-thread]");
        if (thread) return this.show(thread);
      }
      if (answer.status === 404) return this.show(null);
      this.box.replaceChildren(h("p", { class: "reex-notice reex-error", role: "alert" },
        "Comments could not be loaded. ",
        h("button", { type: "button", class: "reex-link", onclick: () => this.load(), text: "Try again" })));
    }

    /** Take over the thread markup (included by the site or fetched); add what is the reader's. */
    show(thread) {
      if (!thread) {
        thread = h("section", { class: "reex-thread", "data-reex-thread": true, "data-count": "0", "data-open": "1", "data-max-depth": "5" },
          h("h2", { class: "reex-count", text: "No comments yet" }), h("ol", { class: "reex-comments" }));
      }
      this.thread = thread;
      this.open = thread.dataset.open !== "0";
      this.maxDepth = parseInt(thread.dataset.maxDepth, 10) || 5;
      this.list = thread.querySelector(".reex-comments");
      this.box.replaceChildren(thread);
      this.showPending();
      if (this.open) {
        thread.querySelectorAll(".reex-comment").forEach((li) => this.addReply(li));
        this.form = this.buildForm();
        this.respond = h("section", { class: "reex-respond" }, this.heading = h("h2", { text: "Leave a comment" }), this.cancel, this.form.el);
        this.box.append(this.respond);
      } else {
        this.box.append(h("p", { class: "reex-closed", text: "Comments are closed." }));
      }
    }

    addReply(li) {
      if (parseInt(li.dataset.depth, 10) >= this.maxDepth || li.classList.contains("reex-pending")) return;
      const meta = li.querySelector(":scope > .reex-meta");
      const name = li.querySelector("[itemprop=name]");
      const button = h("button", { type: "button", class: "reex-link reex-reply", "aria-label": `Reply to ${name ? name.textContent : "this comment"}`, text: "Reply" });
      button.addEventListener("click", () => this.replyTo(li, name ? name.textContent : ""));
      meta.append(" · ", button);
    }

    replyTo(li, name) {
      this.parent = li ? parseInt(li.dataset.id, 10) : null;
      this.heading.textContent = li ? `Reply to ${name}` : "Leave a comment";
      this.cancel.hidden = !li;
      (li || this.box).append(this.respond);
      if (li) this.form.fields.body.input.focus();
      else this.replying && this.replying.focus();
      this.replying = li && li.querySelector(".reex-reply");
    }

    buildForm() {
      const form = makeForm("reex-form", (f) => this.submit(f));
      const author = store.get("author", null);
      const draft = store.get("draft:" + this.key, "");
      const input = (type, autocomplete, value) => h("input", { type, autocomplete, value: value || "" });
      this.cancel = h("button", { type: "button", class: "reex-link reex-cancel", hidden: true, text: "Cancel reply", onclick: () => this.replyTo(null) });
      form.remember = h("input", { type: "checkbox", id: `reex-${++uid}`, checked: !!author });
      form.notify = h("input", { type: "checkbox", id: `reex-${++uid}` });
      const body = h("textarea", { rows: "6", maxlength: "5000" });
      body.value = draft;
      body.addEventListener("input", () => store.set("draft:" + this.key, body.value || null));
      form.button = h("button", { type: "submit", class: "reex-button", text: "Post comment" });
      form.el.append(
        h("p", { class: "reex-meta" }, "Your email address will not be published. Required fields are marked ", h("span", { class: "reex-required", text: "*" })),
        form.notice,
        field(form, "author_name", "Name", input("text", "name", author && author.name), true),
        field(form, "author_email", "Email", input("email", "email", author && author.email), true),
        field(form, "author_url", "Website", input("url", "url", author && author.url), false),
        field(form, "body", "Comment", body, true),
        h("p", { class: "reex-check" }, form.notify, h("label", { for: form.notify.id, text: "Notify me of replies by email" })),
        h("p", { class: "reex-check" }, form.remember, h("label", { for: form.remember.id, text: "Save my name, email, and website in this browser for the next time I comment." })),
        h("p", {}, form.button));
      return form;
    }

    async submit(form) {
      const v = (name) => form.fields[name].input.value;
      const payload = {
        author_name: v("author_name"), author_email: v("author_email"), author_url: v("author_url"), body: v("body"),
        parent: this.parent || null, notify_replies: form.notify.checked, article_url: this.url, article_title: this.title,
      };
      store.set("draft:" + this.key, payload.body || null);
      const data = await send(form, `/api/v1/articles/${encodeURIComponent(this.key)}/comments/`, payload);
      if (!data) return;
      store.set("author", form.remember.checked ? { name: payload.author_name, email: payload.author_email, url: payload.author_url } : null);
      store.set("draft:" + this.key, null);
      const mine = { id: data.id, parent: payload.parent, name: payload.author_name.trim(), body: payload.body.trim(), at: Date.now(),
        token: data.edit_token, until: data.editable_until };
      store.set("pending:" + this.key, [...this.pending(), mine]);
      form.fields.body.input.value = "";
      this.replyTo(null);
      const li = this.addPending(mine);
      say(form, data.detail || AWAITING, "info");
      li.focus();
    }

    pending() {
      const fresh = Date.now() - PENDING_DAYS * 864e5;
      return store.get("pending:" + this.key, []).filter((c) => c && c.at > fresh);
    }

    /** The reader's own comments not yet published: shown to them alone, as plain text.
     * A published one is kept (with its edit token) while it may still be edited. */
    showPending() {
      const shown = (c) => this.thread.querySelector(`.reex-comment[data-id="${Number(c.id)}"]:not(.reex-pending)`);
      const left = this.pending().filter((c) => !shown(c) || editable(c));
      store.set("pending:" + this.key, left.length ? left : null);
      left.forEach((c) => (shown(c) ? this.addOwn(shown(c), c) : this.addPending(c)));
    }

    pendingItem(c) {
      const li = h("li", { class: "reex-comment reex-pending", "data-id": String(c.id), tabindex: "-1" },
        h("p", { class: "reex-meta" }, h("strong", { text: c.name }), " · ", h("em", { text: AWAITING })),
        h("div", { class: "reex-body" }, ...c.body.split(/\n{2,}/).map((p) => h("p", { text: p }))));
      this.addOwn(li, c);
      return li;
    }

    addPending(c) {
      const li = this.pendingItem(c);
      const parent = c.parent && this.thread.querySelector(`.reex-comment[data-id="${Number(c.parent)}"]`);
      let list = this.list;
      if (parent) {
        list = parent.querySelector(":scope > .reex-replies") || parent.appendChild(h("ol", { class: "reex-replies" }));
      }
      list.append(li);
      return li;
    }

    // --- the author's own comment: Edit and Delete while its edit window is open ----------
    /** Save c's new state (null: forget it) in the reader's stored pending comments. */
    keep(c, changed) {
      const all = this.pending().filter((p) => p.id !== c.id);
      if (changed) all.push(changed);
      store.set("pending:" + this.key, all.length ? all : null);
    }

    addOwn(li, c) {
      const meta = li.querySelector(":scope > .reex-meta");
      const notice = h("p", { class: "reex-notice", tabindex: "-1", "aria-live": "polite" });
      meta.after(notice);
      li.ownNotice = notice; // where this comment's own answers are said
      if (!editable(c)) return;
      const own = h("span", { class: "reex-own" }, " · ",
        h("button", { type: "button", class: "reex-link", "aria-label": "Edit your comment", text: "Edit", onclick: (e) => this.edit(li, c, own, e.currentTarget) }),
        " · ",
        h("button", { type: "button", class: "reex-link", "aria-label": "Delete your comment", text: "Delete", onclick: (e) => this.confirmDelete(li, c, own, e.currentTarget) }));
      meta.append(own);
      setTimeout(() => own.remove(), Math.min(Date.parse(c.until) - Date.now(), 2 ** 31 - 1));
    }

    /** A form of the author's own comment, shown in place of its text until done. */
    ownForm(li, c, own, opener, className, onSubmit) {
      const form = makeForm(className, onSubmit);
      const body = li.querySelector(":scope > .reex-body");
      form.close = () => { form.el.remove(); body.hidden = false; own.hidden = false; };
      form.conflict = (data) => {
        form.close();
        own.remove();
        this.keep(c, { ...c, token: null });
        li.ownNotice.className = "reex-notice reex-error";
        li.ownNotice.textContent = REFUSED[data.code] || data.detail;
        li.ownNotice.focus();
      };
      form.cancel = h("button", { type: "button", class: "reex-link", onclick: () => { form.close(); opener.focus(); } });
      li.ownNotice.textContent = "";
      own.hidden = true;
      body.hidden = true;
      body.after(form.el);
      return form;
    }

    edit(li, c, own, opener) {
      const form = this.ownForm(li, c, own, opener, "reex-form reex-edit", (f) => this.save(li, c, f));
      const text = h("textarea", { rows: "6", maxlength: "5000" });
      text.value = c.body;
      form.button = h("button", { type: "submit", class: "reex-button", text: "Save" });
      form.cancel.textContent = "Cancel";
      form.el.append(form.notice, field(form, "body", "Edit your comment", text, true), h("p", {}, form.button, " ", form.cancel));
      text.focus();
    }

    async save(li, c, form) {
      const body = form.fields.body.input.value;
      const data = await send(form, `/api/v1/comments/${Number(c.id)}/`, { body }, "PATCH", c.token);
      if (!data) return;
      const changed = { ...c, body: body.trim() };
      this.keep(c, changed);
      const fresh = this.pendingItem(changed);
      li.replaceWith(fresh);
      fresh.ownNotice.className = "reex-notice reex-info";
      fresh.ownNotice.textContent = data.detail || AWAITING;
      fresh.focus();
    }

    confirmDelete(li, c, own, opener) {
      const form = this.ownForm(li, c, own, opener, "reex-form reex-delete", (f) => this.remove(li, c, f));
      form.button = h("button", { type: "submit", class: "reex-button", text: "Delete for good" });
      form.cancel.textContent = "Keep it";
      form.el.append(form.notice, h("p", { text: "Delete your comment? This cannot be undone." }), h("p", {}, form.button, " ", form.cancel));
      li.querySelector(":scope > .reex-body").hidden = false;
      form.button.focus();
    }

    async remove(li, c, form) {
      if (!(await send(form, `/api/v1/comments/${Number(c.id)}/`, null, "DELETE", c.token))) return;
      this.keep(c, null);
      li.remove();
      if (this.form) {
        say(this.form, "Your comment is deleted.", "info");
        this.form.notice.focus();
      }
    }
  }

  // --- the sign-up box --------------------------------------------------------------
  class Subscribe {
    constructor(host) {
      this.lists = host.dataset.reexSubscribe.split(",").map((s) => s.trim()).filter(Boolean);
      this.box = shadowFor(host);
      whenNear(host, () => this.load());
    }

    async load() {
      let answer;
      try {
        answer = await call("/api/v1/subscriptions/consent/");
      } catch (e) {
        answer = { status: 0 };
      }
      if (answer.status !== 200) {
        this.box.replaceChildren(h("p", { class: "reex-notice reex-error", role: "alert" },
          "The sign-up form could not be loaded. ",
          h("button", { type: "button", class: "reex-link", onclick: () => this.load(), text: "Try again" })));
        return;
      }
      const form = makeForm("reex-form", (f) => this.submit(f));
      form.downMessage = "The sign-up service is not answering right now. Please try again in a moment.";
      form.consent = h("input", { type: "checkbox", value: "1" });
      form.button = h("button", { type: "submit", class: "reex-button", text: "Subscribe" });
      const email = h("input", { type: "email", autocomplete: "email" });
      const consent = field(form, "consent", answer.data.text, form.consent, true);
      form.el.append(form.notice, field(form, "email", "Email", email, true), consent, h("p", {}, form.button));
      this.form = form;
      this.box.replaceChildren(h("section", { class: "reex-subscribe" },
        h("h2", { text: "Straight Into Your Inbox" }),
        h("p", { text: "Receive a Daily News Update: the day's rare earth news every morning. Free; leave in one click." }),
        form.el,
        h("p", { class: "reex-meta", text: "We send a confirmation email first: nothing arrives until you click its link." })));
    }

    async submit(form) {
      const payload = { email: form.fields.email.input.value, consent: form.consent.checked };
      if (this.lists.length) payload.lists = this.lists;
      const data = await send(form, "/api/v1/subscriptions/", payload);
      if (!data) return;
      const done = h("p", { class: "reex-notice reex-info", role: "status", tabindex: "-1", text: data.detail });
      form.el.replaceWith(done);
      done.focus();
    }
  }

  // --- "N Comments" in article lists ------------------------------------------------
  async function counts(spans) {
    const keys = [...new Set(spans.map((s) => s.dataset.reexCount))];
    for (let i = 0; i < keys.length; i += 50) {
      const chunk = keys.slice(i, i + 50);
      try {
        const answer = await call("/api/v1/comment-counts/?articles=" + chunk.map(encodeURIComponent).join(","));
        if (answer.status !== 200) continue;
        spans.filter((s) => chunk.includes(s.dataset.reexCount))
          .forEach((s) => { s.textContent = plural(answer.data[s.dataset.reexCount] || 0); });
      } catch (e) { /* counts are decoration: leave the spans as the site wrote them */ }
    }
  }

  function start() {
    document.querySelectorAll("[data-reex-comments]").forEach((el) => new Comments(el));
    document.querySelectorAll("[data-reex-subscribe]").forEach((el) => new Subscribe(el));
    const spans = [...document.querySelectorAll("[data-reex-count]")];
    if (spans.length) counts(spans);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
