/* Kiosk tablet: one question per screen, big faces, self-reset, offline queue in IndexedDB.
   Plain JavaScript, no build step, no inline code (works under a strict Content-Security-Policy).
   Every text comes from the page (data-texts, Vietnamese and English), so the language switch
   works offline. See survey/kiosk/__init__.py for the settings and the API. */
(function () {
  "use strict";

  var body = document.body;
  var TEXTS = JSON.parse(body.getAttribute("data-texts") || "{}");
  var KEY_TOKEN = "kiosk.token";
  var KEY_SETUP = "kiosk.setup";
  var KEY_LAST = "kiosk.lastSubmit";
  var KEEP_KEYS = [KEY_TOKEN, KEY_SETUP, KEY_LAST];
  var SVG = "http://www.w3.org/2000/svg";

  function text(lang, key, values) {
    var result = (TEXTS[lang] && TEXTS[lang][key]) || (TEXTS.vi && TEXTS.vi[key]) || key;
    Object.keys(values || {}).forEach(function (name) {
      result = result.split("%(" + name + ")s").join(String(values[name]));
    });
    return result;
  }

  function el(tag, attributes, children) {
    var node = document.createElement(tag);
    Object.keys(attributes || {}).forEach(function (name) {
      if (name === "text") node.textContent = attributes[name];
      else if (attributes[name] !== null && attributes[name] !== false) {
        node.setAttribute(name, attributes[name] === true ? "" : attributes[name]);
      }
    });
    (children || []).forEach(function (child) { if (child) node.appendChild(child); });
    return node;
  }

  function face(level, className) {
    var svg = document.createElementNS(SVG, "svg");
    svg.setAttribute("class", className || "face");
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("focusable", "false");
    var use = document.createElementNS(SVG, "use");
    use.setAttribute("href", "#face-" + level);
    svg.appendChild(use);
    return svg;
  }

  function uuid() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    var bytes = crypto.getRandomValues(new Uint8Array(16));
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    var hex = Array.prototype.map.call(bytes, function (b) {
      return (b < 16 ? "0" : "") + b.toString(16);
    }).join("");
    return [hex.slice(0, 8), hex.slice(8, 12), hex.slice(12, 16), hex.slice(16, 20),
      hex.slice(20)].join("-");
  }

  /* ---- Pairing page ---------------------------------------------------------------------- */

  function pairPage() {
    var form = document.getElementById("pair-form");
    var result = document.getElementById("pair-result");
    var lang = document.documentElement.lang === "en" ? "en" : "vi";
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var button = form.querySelector("button");
      button.disabled = true;
      fetch(body.getAttribute("data-pair-api"), {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ code: form.elements.code.value }),
        credentials: "omit",
        cache: "no-store"
      }).then(function (response) {
        return response.json().then(function (data) { return { ok: response.ok, data: data }; });
      }).then(function (answer) {
        if (answer.ok) {
          localStorage.setItem(KEY_TOKEN, answer.data.token);
          localStorage.removeItem(KEY_SETUP);
          result.textContent = text(lang, "paired");
          location.replace(body.getAttribute("data-shell"));
        } else {
          result.textContent = answer.data.error["message_" + lang];
          button.disabled = false;
        }
      }).catch(function () {
        result.textContent = text(lang, "offline");
        button.disabled = false;
      });
    });
  }

  /* ---- Outbox: answers saved on the device before any network call ---------------------- */

  var dbPromise = null;
  var memoryQueue = []; // only when IndexedDB refuses (storage full): staff are told

  function openDb() {
    if (!dbPromise) {
      dbPromise = new Promise(function (resolve, reject) {
        var request = indexedDB.open("kiosk", 1);
        request.onupgradeneeded = function () {
          request.result.createObjectStore("outbox", { keyPath: "client_id" });
        };
        request.onsuccess = function () { resolve(request.result); };
        request.onerror = function () { dbPromise = null; reject(request.error); };
      });
    }
    return dbPromise;
  }

  function withStore(mode, work) {
    return openDb().then(function (db) {
      return new Promise(function (resolve, reject) {
        var transaction = db.transaction("outbox", mode);
        var request = work(transaction.objectStore("outbox"));
        transaction.oncomplete = function () { resolve(request ? request.result : undefined); };
        transaction.onerror = function () { reject(transaction.error); };
        transaction.onabort = function () { reject(transaction.error); };
      });
    });
  }

  function save(item) {
    return withStore("readwrite", function (store) { return store.put(item); }).then(function () {
      memoryQueue = memoryQueue.filter(function (other) { return other.client_id !== item.client_id; });
    }, function () {
      staff("storage_full", null, true);
      memoryQueue = memoryQueue.filter(function (other) { return other.client_id !== item.client_id; });
      memoryQueue.push(item);
    });
  }

  function forget(item) {
    memoryQueue = memoryQueue.filter(function (other) { return other.client_id !== item.client_id; });
    return withStore("readwrite", function (store) { return store.delete(item.client_id); })
      .catch(function () { return undefined; });
  }

  function queued() {
    return withStore("readonly", function (store) { return store.getAll(); })
      .catch(function () { return []; })
      .then(function (items) {
        return items.concat(memoryQueue).sort(function (a, b) { return a.created - b.created; });
      });
  }

  var flushing = false;
  var flushAgain = false;
  var flushTimer = null;

  function scheduleFlush(delay) {
    clearTimeout(flushTimer);
    flushTimer = setTimeout(function () { flush(false); }, Math.max(0, delay));
  }

  /* Send every queued answer whose retry time has come, oldest first. A network failure stops
     the round; 5xx/408 back off (1 s, 2 s, 4 s … at most a minute); 429 (the server's limit per
     tablet) stops the round until its Retry-After; 401/403 keep the queue until the tablet is
     paired again; any other 4xx is permanent: dropped, staff told. */
  function flush(force) {
    if (flushing) { flushAgain = true; return Promise.resolve(); }
    flushing = true;
    flushAgain = false;
    return queued().then(function (items) {
      var index = 0;
      var wake = Infinity;
      function step() {
        if (index >= items.length) return undefined;
        var item = items[index++];
        if (!force && item.next_try > Date.now()) {
          wake = Math.min(wake, item.next_try);
          return step();
        }
        return send(item).then(function (outcome) {
          if (outcome === "retry") wake = Math.min(wake, item.next_try);
          if (outcome === "stop") { wake = Math.min(wake, item.next_try || Infinity); return undefined; }
          return step();
        });
      }
      return Promise.resolve(step()).then(function () {
        if (wake < Infinity) scheduleFlush(wake - Date.now());
      });
    }).catch(function () { return undefined; }).then(function () {
      flushing = false;
      if (flushAgain) scheduleFlush(0);
      return updateBadge();
    });
  }

  /* Seconds to wait from a Retry-After header (seconds or an HTTP date); 30 s when absent. */
  function retryAfterSeconds(response) {
    var header = response.headers.get("Retry-After");
    var seconds = Number(header);
    if (header && !isFinite(seconds)) seconds = (Date.parse(header) - Date.now()) / 1000;
    if (!header || !isFinite(seconds)) seconds = 30;
    return Math.min(3600, Math.max(1, seconds));
  }

  function retryLater(item) {
    item.attempts = (item.attempts || 0) + 1;
    var delay = Math.min(60000, 1000 * Math.pow(2, item.attempts - 1));
    item.next_try = Date.now() + delay / 2 + Math.random() * delay / 2;
    return save(item);
  }

  function send(item) {
    var token = localStorage.getItem(KEY_TOKEN);
    if (!token) { block(); return Promise.resolve("stop"); }
    var controller = window.AbortController ? new AbortController() : null;
    var timer = controller ? setTimeout(function () { controller.abort(); }, 15000) : null;
    return fetch(body.getAttribute("data-submit-url"), {
      method: "POST",
      headers: { "Content-Type": "application/json", "Authorization": "Bearer " + token },
      body: JSON.stringify({
        client_id: item.client_id,
        answers: item.answers,
        comment: item.comment,
        language: item.language,
        device_time: item.device_time,
        questionnaire_id: item.questionnaire_id,
        kiosk_id: item.kiosk_id
      }),
      credentials: "omit",
      cache: "no-store",
      signal: controller ? controller.signal : undefined
    }).then(function (response) {
      clearTimeout(timer);
      var status = response.status;
      if (status === 200 || status === 201) {
        clearStaff(["offline", "server_error"]);
        return forget(item).then(function () { return "sent"; });
      }
      if (status === 401 || status === 403) { block(); return "stop"; }
      if (status === 429) { // not a failure: the rest of the queue waits as long as asked
        item.next_try = Date.now() + retryAfterSeconds(response) * 1000 + Math.random() * 1000;
        return save(item).then(function () { return "stop"; });
      }
      if (status === 408 || status >= 500) {
        staff("server_error");
        return retryLater(item).then(function () { return "retry"; });
      }
      return response.json().catch(function () { return null; }).then(function (data) {
        var error = (data && data.error) || {};
        staff("rejected", { message: error["message_" + state.lang] || String(status) }, true);
        return forget(item).then(function () { return "dropped"; });
      });
    }, function () {
      clearTimeout(timer);
      staff("offline");
      return retryLater(item).then(function () { return "stop"; });
    });
  }

  function updateBadge() {
    return queued().then(function (items) {
      var badge = document.getElementById("badge");
      state.waiting = items.length;
      badge.hidden = items.length === 0;
      badge.textContent = items.length ? text(state.lang, "waiting", { count: items.length }) : "";
    });
  }

  /* ---- Staff messages (small, at the bottom; never a citizen's concern) --------------------- */

  var staffMessage = null;

  function staff(key, values, sticky) {
    if (staffMessage && staffMessage.sticky && !sticky && staffMessage.until > Date.now()) return;
    staffMessage = { key: key, values: values, sticky: !!sticky, until: Date.now() + 5 * 60000 };
    showStaff();
  }

  function clearStaff(keys) {
    if (staffMessage && keys.indexOf(staffMessage.key) >= 0) { staffMessage = null; showStaff(); }
  }

  function showStaff() {
    var node = document.getElementById("staff");
    node.hidden = !staffMessage;
    node.textContent = staffMessage
      ? text(state.lang, "staff") + " " + text(state.lang, staffMessage.key, staffMessage.values)
      : "";
  }

  /* ---- Screens ---------------------------------------------------------------------------- */

  var state = {
    setup: null, lang: "vi", screen: "loading", index: 0, answers: {}, comment: "",
    blocked: false, waiting: 0, lastActivity: Date.now(), idleUntil: 0, thanksUntil: 0
  };
  var screen = document.getElementById("screen");

  function setting(name, fallback) {
    var settings = state.setup && state.setup.settings;
    return settings && settings[name] !== undefined ? settings[name] : fallback;
  }

  function local(record, field) { return record[field + "_" + state.lang] || record[field + "_vi"]; }

  function show(name) {
    state.screen = name;
    render();
  }

  function render() {
    document.documentElement.lang = state.lang;
    var toggle = document.getElementById("lang");
    toggle.textContent = state.lang === "vi" ? "English" : "Tiếng Việt";
    toggle.setAttribute("lang", state.lang === "vi" ? "en" : "vi");
    toggle.hidden = !state.setup || state.screen === "blocked";
    var where = document.getElementById("where");
    where.textContent = state.setup
      ? local(state.setup.point, "agency") + " — " + local(state.setup.point, "name") : "";
    var views = {
      loading: renderMessage.bind(null, "not_set_up"),
      notsetup: renderMessage.bind(null, "not_set_up"),
      blocked: renderMessage.bind(null, "out_of_service"),
      welcome: renderWelcome,
      question: renderQuestion,
      comment: renderComment,
      thanks: renderThanks,
      leaving: function () { return el("div"); }
    };
    screen.replaceChildren(views[state.screen]());
    screen.className = "screen screen-" + state.screen;
    showStaff();
    updateBadge();
  }

  function renderMessage(key) {
    return el("div", { "class": "message" }, [el("h1", { text: text(state.lang, key) })]);
  }

  function renderWelcome() {
    var start = el("button", { type: "button", "class": "big primary start", text: text(state.lang, "start") });
    start.addEventListener("click", function () {
      state.index = 0;
      show("question");
      focusHeading();
    });
    return el("div", { "class": "welcome" }, [
      face(5, "face hero"),
      el("h1", { text: local(state.setup.questionnaire, "title") }),
      el("p", { "class": "lead", text: text(state.lang, "welcome") }),
      start
    ]);
  }

  function renderQuestion() {
    var items = state.setup.questionnaire.items;
    var item = items[state.index];
    var answered = Object.prototype.hasOwnProperty.call(state.answers, item.code);
    var choices = el("div", { "class": "faces", role: "group", "aria-labelledby": "question" });
    [1, 2, 3, 4, 5].forEach(function (level) {
      var label = text(state.lang, "scale_" + level);
      var button = el("button", {
        type: "button", "class": "choice choice-" + level,
        "aria-pressed": String(answered && state.answers[item.code] === level)
      }, [face(level), el("span", { "class": "label", text: label })]);
      button.addEventListener("click", function () { choose(item, level); });
      choices.appendChild(button);
    });
    var extra = null;
    if (item.not_applicable) {
      extra = el("button", {
        type: "button", "class": "choice-na",
        "aria-pressed": String(answered && state.answers[item.code] === null),
        text: text(state.lang, "not_applicable")
      });
      extra.addEventListener("click", function () { choose(item, null); });
    }
    var back = el("button", { type: "button", "class": "secondary back", text: text(state.lang, "back") });
    back.addEventListener("click", function () {
      if (state.index === 0) show("welcome"); else { state.index -= 1; show("question"); }
      focusHeading();
    });
    var nav = el("div", { "class": "nav" }, [back]);
    if (answered) {
      var next = el("button", { type: "button", "class": "secondary next", text: text(state.lang, "next") });
      next.addEventListener("click", advance);
      nav.appendChild(next);
    }
    return el("div", { "class": "question" }, [
      el("p", { "class": "progress", text: text(state.lang, "question_of", { number: state.index + 1, total: items.length }) }),
      el("h1", { id: "question", tabindex: "-1", text: local(item, "text") }),
      choices, extra, nav
    ]);
  }

  var advancing = null;

  function choose(item, value) {
    state.answers[item.code] = value;
    render();
    clearTimeout(advancing);
    advancing = setTimeout(advance, 300); // let the citizen see the chosen face
  }

  function advance() {
    clearTimeout(advancing);
    if (state.screen !== "question") return;
    if (state.index + 1 < state.setup.questionnaire.items.length) {
      state.index += 1;
      show("question");
    } else {
      show("comment");
    }
    focusHeading();
  }

  function renderComment() {
    var area = el("textarea", { id: "comment", rows: "4", maxlength: "1000", autocomplete: "off", spellcheck: "false" });
    area.value = state.comment;
    area.addEventListener("input", function () { state.comment = area.value; });
    area.addEventListener("focus", function () {
      setTimeout(function () { sendButton.scrollIntoView({ block: "end" }); }, 300); // on-screen keyboard
    });
    var back = el("button", { type: "button", "class": "secondary back", text: text(state.lang, "back") });
    back.addEventListener("click", function () {
      state.index = state.setup.questionnaire.items.length - 1;
      show("question");
      focusHeading();
    });
    var sendButton = el("button", { type: "button", "class": "big primary send", text: text(state.lang, "send") });
    sendButton.addEventListener("click", function () {
      var wait = Number(localStorage.getItem(KEY_LAST) || 0) + setting("min_interval_seconds", 5) * 1000 - Date.now();
      sendButton.disabled = true;
      setTimeout(function () { submit().then(function () { show("thanks"); }); }, Math.max(0, wait));
    });
    return el("div", { "class": "comment" }, [
      el("label", { "for": "comment", id: "question", tabindex: "-1", text: text(state.lang, "comment") }),
      area,
      el("div", { "class": "nav" }, [back, sendButton])
    ]);
  }

  function renderThanks() {
    var seconds = Math.max(0, Math.ceil((state.thanksUntil - Date.now()) / 1000));
    return el("div", { "class": "thanks" }, [
      face(5, "face hero"),
      el("h1", { id: "question", tabindex: "-1", text: text(state.lang, "thanks") }),
      el("p", { "class": "restart", id: "restart", text: text(state.lang, "restart_in", { seconds: seconds }) })
    ]);
  }

  function focusHeading() {
    var heading = document.getElementById("question") || screen.querySelector("h1");
    if (heading) heading.focus({ preventScroll: true });
    window.scrollTo(0, 0);
  }

  function complete() {
    return state.setup.questionnaire.items.every(function (item) {
      return Object.prototype.hasOwnProperty.call(state.answers, item.code);
    });
  }

  /* Saved on the device first (IndexedDB), then sent. */
  function submit() {
    var now = Date.now();
    var item = {
      client_id: uuid(),
      answers: JSON.parse(JSON.stringify(state.answers)),
      comment: state.comment.trim() || null,
      language: state.lang,
      device_time: new Date(now).toISOString(),
      questionnaire_id: state.setup.questionnaire.id,
      kiosk_id: state.setup.kiosk.id,
      created: now,
      attempts: 0,
      next_try: 0
    };
    localStorage.setItem(KEY_LAST, String(now));
    state.thanksUntil = now + setting("thanks_seconds", 8) * 1000;
    return save(item).then(function () { scheduleFlush(0); return updateBadge(); });
  }

  /* Wipe every trace of the last citizen: answers, comment, language, storage, history, focus. */
  function reset() {
    clearTimeout(advancing);
    hideIdle();
    state.answers = {};
    state.comment = "";
    state.index = 0;
    state.lang = "vi";
    try { sessionStorage.clear(); } catch (error) { /* storage disabled */ }
    try {
      Object.keys(localStorage).forEach(function (key) {
        if (KEEP_KEYS.indexOf(key) < 0) localStorage.removeItem(key);
      });
    } catch (error) { /* storage disabled */ }
    if (history.replaceState) history.replaceState(null, "", body.getAttribute("data-scope"));
    if (document.activeElement && document.activeElement.blur) document.activeElement.blur();
    state.lastActivity = Date.now();
    show(state.blocked ? "blocked" : state.setup ? "welcome" : "notsetup");
    window.scrollTo(0, 0);
    loadSetup();
  }

  /* ---- Idle countdown ---------------------------------------------------------------------- */

  var idle = document.getElementById("idle");

  function showIdle() {
    state.idleUntil = Date.now() + setting("countdown_seconds", 30) * 1000;
    document.getElementById("idle-title").textContent = text(state.lang, "idle_title");
    document.getElementById("more-time").textContent = text(state.lang, "more_time");
    updateIdle();
    setInert(true);
    idle.hidden = false;
    document.getElementById("more-time").focus();
  }

  function updateIdle() {
    var seconds = Math.max(0, Math.ceil((state.idleUntil - Date.now()) / 1000));
    document.getElementById("idle-text").textContent = text(state.lang, "idle_text", { seconds: seconds });
  }

  function setInert(inert) { // the page behind the dialog cannot be touched or focused
    [screen, document.querySelector(".topbar")].forEach(function (node) {
      if (inert) node.setAttribute("inert", ""); else node.removeAttribute("inert");
    });
  }

  function hideIdle() {
    setInert(false);
    idle.hidden = true;
    state.idleUntil = 0;
  }

  function tick() {
    var now = Date.now();
    if (state.screen === "question" || state.screen === "comment") {
      if (idle.hidden && now - state.lastActivity > setting("idle_seconds", 60) * 1000) showIdle();
      else if (!idle.hidden) {
        updateIdle();
        if (now >= state.idleUntil) {
          var keep = setting("timeout_policy", "discard") === "keep_complete" && complete();
          hideIdle();
          state.screen = "leaving"; // no second timeout while the answer is being saved
          if (keep) submit().then(reset, reset); else reset();
        }
      }
    } else if (state.screen === "thanks") {
      var restart = document.getElementById("restart");
      var seconds = Math.max(0, Math.ceil((state.thanksUntil - now) / 1000));
      if (restart) restart.textContent = text(state.lang, "restart_in", { seconds: seconds });
      if (now >= state.thanksUntil) reset();
    } else if (state.screen === "welcome" && state.lang !== "vi" &&
               now - state.lastActivity > setting("idle_seconds", 60) * 1000) {
      reset();
    }
  }

  /* ---- Setup ------------------------------------------------------------------------------- */

  function block() {
    state.blocked = true;
    staff("not_paired", null, true);
    if (state.screen === "welcome" || state.screen === "loading" || state.screen === "notsetup") {
      show("blocked");
    }
  }

  function loadSetup() {
    var token = localStorage.getItem(KEY_TOKEN);
    if (!token) { block(); return Promise.resolve(); }
    return fetch(body.getAttribute("data-setup-url"), {
      headers: { "Authorization": "Bearer " + token }, credentials: "omit", cache: "no-store"
    }).then(function (response) {
      if (response.status === 401 || response.status === 403) { block(); return undefined; }
      if (!response.ok) { staff("server_error"); return undefined; }
      return response.json().then(function (data) {
        localStorage.setItem(KEY_SETUP, JSON.stringify(data));
        var first = !state.setup;
        state.setup = data;
        state.blocked = false;
        clearStaff(["not_paired"]);
        if (first || state.screen === "welcome" || state.screen === "blocked") show("welcome");
      });
    }, function () {
      staff("offline");
      if (!state.setup) show("notsetup");
    });
  }

  /* The whole screen: browsers grant it only during a touch or key press, so every touch asks
     while the kiosk is not full screen (the first one, or the next after staff left it). An
     installed kiosk (manifest: "display": "fullscreen") already is. */
  function askForFullScreen() {
    var root = document.documentElement;
    if (document.fullscreenElement || !root.requestFullscreen || document.fullscreenEnabled === false) return;
    root.requestFullscreen({ navigationUI: "hide" }).catch(function () { return undefined; });
  }

  function shellPage() {
    try { state.setup = JSON.parse(localStorage.getItem(KEY_SETUP) || "null"); } catch (error) { state.setup = null; }
    if (history.replaceState) history.replaceState(null, "", body.getAttribute("data-scope"));
    show(state.setup ? "welcome" : "loading");
    document.getElementById("lang").addEventListener("click", function () {
      state.lang = state.lang === "vi" ? "en" : "vi";
      render();
      document.getElementById("lang").focus();
    });
    document.getElementById("more-time").addEventListener("click", function () {
      hideIdle();
      state.lastActivity = Date.now();
    });
    document.addEventListener("click", askForFullScreen, true);
    ["pointerdown", "keydown", "input", "touchstart"].forEach(function (name) {
      document.addEventListener(name, function () {
        if (idle.hidden) state.lastActivity = Date.now();
      }, { passive: true, capture: true });
    });
    window.addEventListener("online", function () { flush(true); });
    setInterval(tick, 1000);
    setInterval(function () { flush(false); }, 30000);
    if (navigator.storage && navigator.storage.persist) navigator.storage.persist().catch(function () { return false; });
    if ("serviceWorker" in navigator) {
      navigator.serviceWorker.register(body.getAttribute("data-sw"), { scope: body.getAttribute("data-scope") })
        .catch(function () { return undefined; });
    }
    loadSetup().then(function () { return flush(true); });
  }

  if (body.getAttribute("data-page") === "pair") pairPage();
  else shellPage();
}());
