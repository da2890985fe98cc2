/* kefu web chat widget (网页在线客服). One script tag on an operator's page:
 *
 *   <script src="https://kefu.example.cn/static/webchat.js" data-org="GZ" defer></script>
 *
 * data-org: the org unit code the chats go to (default: the default city); data-title: the button's
 * text; data-open="1": open at once. Talks to the kefu server it was loaded from over a WebSocket
 * (/api/v1/webchat/ws, see kefu/channels/webchat_api.py). The session token and the messages not yet
 * acknowledged are kept in localStorage: a reload or a lost connection loses nothing (unsent messages
 * are sent again with the same id and stored once). No inline styles: webchat.css from the same server.
 */
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script || window.__kefuWebchat) { return; }
  window.__kefuWebchat = true;
  var origin = new URL(script.src, location.href).origin;
  var org = script.getAttribute("data-org") || "";
  var title = script.getAttribute("data-title") || "在线客服";
  var storeKey = "kefu.webchat." + origin + "." + org;
  var wsUrl = origin.replace(/^http/, "ws") + "/api/v1/webchat/ws";

  function load() {
    try { return JSON.parse(localStorage.getItem(storeKey) || "{}"); } catch (e) { return {}; }
  }
  function save() {
    try { localStorage.setItem(storeKey, JSON.stringify(state)); } catch (e) { /* private mode */ }
  }
  var state = load();
  state.pending = state.pending || [];

  var css = document.createElement("link");
  css.rel = "stylesheet";
  css.href = origin + "/static/webchat.css";
  document.head.appendChild(css);

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) { e.className = cls; }
    if (text) { e.textContent = text; }
    return e;
  }
  var toggle = el("button", "kefu-chat-toggle", title);
  toggle.type = "button";
  toggle.id = "kefu-chat-toggle";
  var panel = el("section", "kefu-chat");
  panel.id = "kefu-chat";
  panel.hidden = true;
  panel.setAttribute("lang", "zh-CN");
  panel.setAttribute("aria-label", title);
  var head = el("header", "kefu-chat-head", title);
  var close = el("button", "kefu-chat-close", "×");
  close.type = "button";
  close.setAttribute("aria-label", "关闭");
  head.appendChild(close);
  var status = el("p", "kefu-chat-status", "正在连接…");
  status.setAttribute("role", "status");
  var log = el("ol", "kefu-chat-log");
  log.setAttribute("aria-live", "polite");
  var form = el("form", "kefu-chat-form");
  var input = el("textarea", "kefu-chat-input");
  input.name = "text";
  input.rows = 2;
  input.maxLength = 2000;
  input.placeholder = "请输入您的问题，按回车发送";
  var send = el("button", "kefu-chat-send", "发送");
  send.type = "submit";
  form.appendChild(input);
  form.appendChild(send);
  var typing = el("p", "kefu-chat-typing", "");
  typing.setAttribute("aria-live", "polite");
  // Log in with a mobile number: a code by SMS, then the chat is the number's customer's.
  var login = el("form", "kefu-chat-login");
  var phone = el("input", "kefu-chat-phone");
  phone.type = "tel";
  phone.name = "phone";
  phone.placeholder = "手机号（登录后可查看您的全部服务记录）";
  var code = el("input", "kefu-chat-code");
  code.name = "code";
  code.inputMode = "numeric";
  code.maxLength = 6;
  code.placeholder = "短信验证码";
  code.hidden = true;
  var go = el("button", "kefu-chat-login-go", "获取验证码");
  go.type = "submit";
  login.appendChild(phone);
  login.appendChild(code);
  login.appendChild(go);
  panel.appendChild(head);
  panel.appendChild(login);
  panel.appendChild(log);
  panel.appendChild(typing);
  panel.appendChild(status);
  panel.appendChild(form);
  document.body.appendChild(toggle);
  document.body.appendChild(panel);

  var shown = {};   // message id -> element
  var local = {};   // client id -> element of a message not yet acknowledged
  var last = 0;
  var ws = null;
  var retry = 1000;
  var typingTimer = null;
  var typedAt = 0;

  function line(direction, body, note) {
    var li = el("li", "kefu-chat-line kefu-chat-" + (direction === "outbound" ? "agent" : "me"));
    li.appendChild(el("span", "kefu-chat-who", direction === "outbound" ? "客服" : "我"));
    li.appendChild(el("span", "kefu-chat-body", body));
    if (note) { li.appendChild(el("small", "kefu-chat-note", note)); }
    log.appendChild(li);
    log.scrollTop = log.scrollHeight;
    return li;
  }
  function mark(li, note) {
    var n = li.querySelector(".kefu-chat-note");
    if (note) {
      if (!n) { n = el("small", "kefu-chat-note"); li.appendChild(n); }
      n.textContent = note;
    } else if (n) { n.remove(); }
  }
  function wire(frame) {
    if (ws && ws.readyState === 1) { ws.send(JSON.stringify(frame)); return true; }
    return false;
  }
  function flush() {
    state.pending.forEach(function (p) { wire({ type: "message", id: p.id, text: p.text }); });
  }
  function newId() {
    var a = new Uint8Array(9);
    crypto.getRandomValues(a);
    return Array.prototype.map.call(a, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }

  function received(items) {
    var seen = 0;
    items.forEach(function (m) {
      last = Math.max(last, m.id);
      if (shown[m.id]) { return; }
      var li = m.client_id && local[m.client_id];
      if (li) {
        mark(li, "");
        delete local[m.client_id];
      } else {
        li = line(m.direction, m.body);
      }
      li.setAttribute("data-id", m.id);
      shown[m.id] = li;
      if (m.direction === "outbound") { seen = m.id; }
    });
    if (seen) { wire({ type: "seen", upto: seen }); }
  }

  function onFrame(ev) {
    var f;
    try { f = JSON.parse(ev.data); } catch (e) { return; }
    if (f.type === "session") {
      state.token = f.token;
      save();
      status.textContent = "已连接，客服将尽快回复您";
      panel.setAttribute("data-state", "online");
      retry = 1000;
      wire({ type: "sync", after: last });
      flush();
    } else if (f.type === "messages") {
      received(f.items || []);
    } else if (f.type === "typing") {
      typing.textContent = "客服正在输入…";
      clearTimeout(typingTimer);
      typingTimer = setTimeout(function () { typing.textContent = ""; }, 4000);
    } else if (f.type === "login") {
      if (f.state === "code_sent") {
        code.hidden = false;
        go.textContent = "登录";
        status.textContent = "验证码已发送至 " + f.phone;
        code.focus();
      } else {
        login.hidden = true;
        status.textContent = f.state === "linked" ? "已登录，客服可查看您的服务记录" : "已提交，客服核实后关联您的记录";
      }
    } else if (f.type === "ack") {
      state.pending = state.pending.filter(function (p) { return p.id !== f.id; });
      save();
    } else if (f.type === "error") {
      if (f.code === "bad_token") { delete state.token; save(); }
      var li = f.id && local[f.id];
      if (f.code === "rate_limited") {
        status.textContent = "发送过于频繁，请稍后再试";
      } else if (f.code === "too_many_codes") {
        status.textContent = "该号码获取验证码过于频繁，请 " + Math.ceil(f.retry_after || 60) + " 秒后再试";
      } else if (li) {
        mark(li, "发送失败：" + f.message);
        state.pending = state.pending.filter(function (p) { return p.id !== f.id; });
        save();
      } else {
        status.textContent = "出错了：" + f.message;
      }
    }
  }

  function connect() {
    var url = wsUrl + "?" + (state.token ? "token=" + encodeURIComponent(state.token)
                                          : "org=" + encodeURIComponent(org));
    ws = new WebSocket(url);
    ws.onmessage = onFrame;
    ws.onclose = function (ev) {
      panel.setAttribute("data-state", "offline");
      status.textContent = "连接已断开，正在重新连接…";
      ws = null;
      if (ev.code === 4404) { status.textContent = "在线客服暂不可用"; return; }
      setTimeout(connect, ev.code === 4429 ? 60000 : retry);
      retry = Math.min(retry * 2, 30000);
    };
  }

  function submit() {
    var text = input.value.trim();
    if (!text) { return; }
    var p = { id: newId(), text: text };
    state.pending.push(p);
    save();
    local[p.id] = line("inbound", text, "发送中…");
    input.value = "";
    wire({ type: "message", id: p.id, text: text });
  }
  form.addEventListener("submit", function (e) { e.preventDefault(); submit(); });
  input.addEventListener("input", function () {
    var now = Date.now();
    if (now - typedAt > 3000) { typedAt = now; wire({ type: "typing" }); }
  });
  login.addEventListener("submit", function (e) {
    e.preventDefault();
    if (code.hidden) {
      wire({ type: "login", phone: phone.value.trim() });
    } else {
      wire({ type: "verify", phone: phone.value.trim(), code: code.value.trim() });
    }
  });
  input.addEventListener("keydown", function (e) {
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing) { e.preventDefault(); submit(); }
  });
  function open() {
    panel.hidden = false;
    toggle.hidden = true;
    if (!ws) { connect(); }
    input.focus();
  }
  toggle.addEventListener("click", open);
  close.addEventListener("click", function () { panel.hidden = true; toggle.hidden = false; });
  state.pending.forEach(function (p) { local[p.id] = line("inbound", p.text, "发送中…"); });
  if (script.getAttribute("data-open") === "1" || state.token) { open(); }
}());
