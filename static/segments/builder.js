/* csbox condition builder (issue 5).
 *
 * Turns the segment form's conditions textarea (the spec's JSON) into a visual
 * editor: groups with all/any and "not", rules whose field, operator and value
 * inputs come from the registry (GET builder/schema/), drag and drop or
 * arrow keys to reorder, a JSON view to paste, validation errors beside the
 * rule they concern, and a debounced live preview (POST builder/preview/).
 * Also the expectations pickers ("must be in" / "must not be in").
 *
 * Plain JavaScript, no dependencies, no build step. The textarea stays the
 * form field: whatever the builder shows is what the form posts.
 */
(function () {
  "use strict";

  const NO_VALUE = new Set(["is_set", "is_not_set", "is_true", "is_false"]);
  const DAY_OPS = new Set(["in_last_days", "in_next_days", "more_than_days_ago", "more_than_days_ahead"]);
  const LIST_OPS = new Set(["in", "not_in"]);
  const DEFAULT_OP = { number: "gt", text: "eq", choice: "eq", boolean: "is_true", date: "in_last_days", user: "eq" };
  const PREVIEW_DELAY = 300;
  const schemaCache = {};

  // DOM helpers ---------------------------------------------------------------

  function el(tag, props, children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(props || {})) {
      if (value === undefined || value === null || value === false) continue;
      if (key === "class") node.className = value;
      else if (key === "text") node.textContent = value;
      else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
      else if (key === "value" || key === "checked" || key === "selected") node[key] = value;
      else node.setAttribute(key, value === true ? "" : String(value));
    }
    for (const child of [].concat(children === undefined ? [] : children)) {
      if (child === null || child === undefined || child === false) continue;
      node.append(child instanceof Node ? child : String(child));
    }
    return node;
  }

  function option(value, label, selected) {
    return el("option", { value: value, selected: !!selected, text: label });
  }

  function csrfToken() {
    const input = document.querySelector("input[name=csrfmiddlewaretoken]");
    if (input) return input.value;
    const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : "";
  }

  async function postJSON(url, body, signal) {
    const response = await fetch(url, {
      method: "POST", signal: signal, credentials: "same-origin",
      headers: { "Content-Type": "application/json", "Accept": "application/json", "X-CSRFToken": csrfToken() },
      body: JSON.stringify(body),
    });
    let data = null;
    try { data = await response.json(); } catch (e) { data = null; }
    return { status: response.status, data: data };
  }

  async function getJSON(url) {
    const response = await fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } });
    if (!response.ok) throw new Error("HTTP " + response.status);
    return response.json();
  }

  function debounce(fn, wait) {
    let timer = null;
    const debounced = function () { clearTimeout(timer); timer = setTimeout(fn, wait); };
    debounced.cancel = function () { clearTimeout(timer); };
    return debounced;
  }

  function fmt(n) { return typeof n === "number" ? n.toLocaleString("en-US") : String(n); }

  function isObject(x) { return x !== null && typeof x === "object" && !Array.isArray(x); }

  function childPath(path, index) { return (path ? path + "." : "") + "rules[" + index + "]"; }

  /* "rules[1].rules[0].params.days" -> {node: "rules[1].rules[0]", part: "params.days"} */
  function splitPath(path) {
    const match = /^((?:rules\[\d+\])(?:\.rules\[\d+\])*)?\.?(.*)$/.exec(path || "");
    return { node: (match && match[1]) || "", part: (match && match[2]) || "" };
  }

  function valueFamily(field) {
    if (!field) return null;
    return { integer: "number", decimal: "number", datetime: "date" }[field.type] || field.type;
  }

  function auditKey(rule) {
    const params = isObject(rule.params) ? rule.params : {};
    const sorted = {};
    Object.keys(params).sort().forEach(function (k) { sorted[k] = params[k]; });
    return rule.field + "|" + JSON.stringify(sorted);
  }

  // Field picker: a searchable, grouped list in a popover ------------------------

  class FieldPicker {
    constructor() {
      this.pop = el("div", { class: "cb-picker", role: "dialog", "aria-label": "Choose a field", hidden: true });
      this.search = el("input", { type: "search", class: "cb-picker-search", placeholder: "Search fields…",
        "aria-label": "Search fields", autocomplete: "off" });
      this.list = el("div", { class: "cb-picker-list", role: "listbox" });
      this.pop.append(this.search, this.list);
      document.body.append(this.pop);
      this.search.addEventListener("input", () => this.filter());
      this.search.addEventListener("keydown", (e) => this.onKey(e));
      document.addEventListener("mousedown", (e) => {
        if (!this.pop.hidden && !this.pop.contains(e.target) && e.target !== this.anchor) this.close();
      });
    }

    open(anchor, schema, current, onPick) {
      this.anchor = anchor;
      this.onPick = onPick;
      this.schema = schema;
      this.current = current;
      this.search.value = "";
      this.pop.hidden = false;
      const rect = anchor.getBoundingClientRect();
      this.pop.style.top = (rect.bottom + window.scrollY + 4) + "px";
      this.pop.style.left = Math.max(8, Math.min(rect.left + window.scrollX,
        window.scrollX + document.documentElement.clientWidth - 400)) + "px";
      this.filter();
      this.search.focus();
    }

    close(refocus) {
      if (this.pop.hidden) return;
      this.pop.hidden = true;
      if (refocus && this.anchor) this.anchor.focus();
    }

    filter() {
      const words = this.search.value.toLowerCase().split(/\s+/).filter(Boolean);
      this.list.replaceChildren();
      this.options = [];
      for (const group of this.schema.groups) {
        const fields = this.schema.fields.filter((f) => {
          if (f.group !== group) return false;
          const hay = (f.label + " " + f.key + " " + f.group + " " + (f.help || "")).toLowerCase();
          return words.every((w) => hay.includes(w));
        });
        if (!fields.length) continue;
        this.list.append(el("div", { class: "cb-picker-group", text: group }));
        for (const field of fields) {
          const opt = el("div", {
            class: "cb-picker-option" + (field.key === this.current ? " cb-current" : ""),
            role: "option", "data-key": field.key, title: field.help || field.key,
            onmousedown: (e) => { e.preventDefault(); this.pick(field.key); },
          }, [el("span", { class: "cb-picker-label", text: field.label }),
            el("span", { class: "cb-picker-type", text: field.params.length ? field.type + " · " +
              field.params.map((p) => p.name).join(", ") : field.type })]);
          this.options.push(opt);
          this.list.append(opt);
        }
      }
      if (!this.options.length) this.list.append(el("div", { class: "cb-picker-empty", text: "No field matches." }));
      this.activate(0);
    }

    activate(index) {
      if (!this.options.length) return;
      this.active = (index + this.options.length) % this.options.length;
      this.options.forEach((o, i) => o.classList.toggle("cb-active", i === this.active));
      this.options[this.active].scrollIntoView({ block: "nearest" });
    }

    onKey(e) {
      if (e.key === "ArrowDown") { e.preventDefault(); this.activate(this.active + 1); }
      else if (e.key === "ArrowUp") { e.preventDefault(); this.activate(this.active - 1); }
      else if (e.key === "Enter") {
        e.preventDefault();
        if (this.options.length) this.pick(this.options[this.active].dataset.key);
      } else if (e.key === "Escape" || e.key === "Tab") { e.preventDefault(); this.close(true); }
    }

    pick(key) {
      this.close(false);
      this.onPick(key);
    }
  }

  let picker = null;

  // The builder ---------------------------------------------------------------

  class Builder {
    constructor(root) {
      this.root = root;
      this.config = JSON.parse(root.dataset.config || "{}");
      this.textarea = root.querySelector("textarea");
      this.app = root.querySelector(".cb-app");
      this.kind = this.config.kind || this.kindFromInput() || "account";
      this.mode = "builder";
      this.seq = 0;
      this.errors = [];
      this.hints = {};
      this.auditFor = null;
      this.staff = null;
      this.state = this.parse(this.textarea.value) || { match: "all", rules: [] };
      this.serverErrors = this.readServerErrors();
      this.schedulePreview = debounce(() => this.preview(), PREVIEW_DELAY);
      this.layout();
      this.bind();
      this.load();
    }

    kindFromInput() {
      const input = this.config.kindInput && document.getElementById(this.config.kindInput);
      return input ? input.value : null;
    }

    parse(text) {
      try {
        const value = JSON.parse(text);
        return isObject(value) ? value : null;
      } catch (e) {
        return null;
      }
    }

    /* Errors the server rendered after a POST ("rules[0].value: ..."), shown at their rules. */
    readServerErrors() {
      const row = this.root.closest(".form-row") || this.root.parentElement;
      const items = row ? row.querySelectorAll("ul.errorlist li") : [];
      return Array.from(items).map((li) => {
        const match = /^([A-Za-z0-9_.\[\]]+): (.+)$/.exec(li.textContent.trim());
        return match ? { path: match[1], message: match[2] } : { path: "", message: li.textContent.trim() };
      });
    }

    layout() {
      this.tabs = {
        builder: el("button", { type: "button", class: "cb-tab", "aria-pressed": "true", text: "Builder",
          onclick: () => this.setMode("builder") }),
        json: el("button", { type: "button", class: "cb-tab", "aria-pressed": "false", text: "JSON",
          title: "Edit or paste the conditions as JSON", onclick: () => this.setMode("json") }),
      };
      this.summary = el("span", { class: "cb-summary" });
      this.tree = el("div", { class: "cb-tree" });
      this.jsonError = el("div", { class: "cb-json-error", role: "alert", hidden: true });
      this.jsonPane = el("div", { class: "cb-jsonpane", hidden: true }, [
        el("p", { class: "cb-help", text: "Paste or edit the conditions (the spec's JSON). " +
          "The builder reads it back when you switch to Builder." }),
      ]);
      this.jsonPane.append(this.textarea, this.jsonError);
      this.previewPane = el("aside", { class: "cb-preview", "aria-live": "polite", "aria-label": "Live preview" });
      this.app.append(
        el("div", { class: "cb-toolbar" }, [el("div", { class: "cb-tabs", role: "group", "aria-label": "Editor" },
          [this.tabs.builder, this.tabs.json]), this.summary]),
        el("div", { class: "cb-main" }, [el("div", { class: "cb-editor" }, [this.tree, this.jsonPane]),
          this.previewPane]),
      );
      this.renderPreviewShell();
      this.root.classList.add("cb-ready");
    }

    bind() {
      this.textarea.addEventListener("input", () => {
        const parsed = this.parse(this.textarea.value);
        this.jsonError.hidden = !!parsed;
        if (!parsed) {
          this.jsonError.textContent = "This is not a JSON object yet: the builder and the preview wait for valid JSON.";
          return;
        }
        this.state = parsed;
        this.schedulePreview();
      });
      this.tree.addEventListener("keydown", (e) => {
        // Enter in a builder input must not submit the admin form.
        if (e.key === "Enter" && e.target.tagName === "INPUT") e.preventDefault();
      });
      this.bindDrag();
      const kindInput = this.config.kindInput && document.getElementById(this.config.kindInput);
      if (kindInput) kindInput.addEventListener("change", () => this.changeKind(kindInput));
      document.addEventListener("cb:expectations", () => this.schedulePreview());
      const form = this.root.closest("form");
      if (form) form.addEventListener("submit", () => { if (this.mode === "builder") this.write(); });
    }

    async load() {
      this.tree.replaceChildren(el("p", { class: "cb-loading", text: "Loading fields…" }));
      try {
        this.schema = await this.loadSchema(this.kind);
      } catch (e) {
        this.tree.replaceChildren(el("p", { class: "cb-error-text",
          text: "The fields could not be loaded (" + e.message + "). Use the JSON view." }));
        this.setMode("json");
        return;
      }
      this.fields = new Map(this.schema.fields.map((f) => [f.key, f]));
      this.render();
      if (this.serverErrors.length) this.showErrors(this.serverErrors);
      this.preview();
    }

    loadSchema(kind) {
      const params = new URLSearchParams({ kind: kind });
      if (this.config.segment) params.set("segment", this.config.segment);
      const url = this.config.schemaUrl + "?" + params.toString();
      if (!schemaCache[url]) schemaCache[url] = getJSON(url);
      return schemaCache[url];
    }

    async loadStaff() {
      if (this.staff) return this.staff;
      try {
        this.staff = (await getJSON(this.config.staffUrl)).results;
      } catch (e) {
        this.staff = [];
      }
      return this.staff;
    }

    async changeKind(input) {
      const next = input.value;
      if (next === this.kind) return;
      if ((this.state.rules || []).length &&
          !window.confirm("Changing the kind clears the conditions (fields differ). Continue?")) {
        input.value = this.kind;
        return;
      }
      this.kind = next;
      this.state = { match: "all", rules: [] };
      this.write();
      await this.load();
    }

    setMode(mode) {
      if (mode === this.mode) return;
      if (mode === "builder") {
        const parsed = this.parse(this.textarea.value);
        if (!parsed) {
          this.jsonError.hidden = false;
          this.jsonError.textContent = "Fix the JSON before switching back to the builder.";
          return;
        }
        this.state = parsed;
      } else {
        this.write();
      }
      this.mode = mode;
      this.tabs.builder.setAttribute("aria-pressed", String(mode === "builder"));
      this.tabs.json.setAttribute("aria-pressed", String(mode === "json"));
      this.tree.hidden = mode !== "builder";
      this.jsonPane.hidden = mode !== "json";
      if (mode === "builder") this.render();
      else this.textarea.focus();
    }

    write() {
      this.textarea.value = JSON.stringify(this.state, null, 2);
    }

    /* Something changed: write the JSON, redraw if the structure changed, and preview. */
    changed(structural) {
      this.write();
      if (structural) this.render();
      this.schedulePreview();
    }

    // Paths and the document ----------------------------------------------------

    resolve(path) {
      let node = this.state;
      const re = /rules\[(\d+)\]/g;
      let match;
      while ((match = re.exec(path || "")) !== null) {
        node = Array.isArray(node.rules) ? node.rules[Number(match[1])] : undefined;
        if (node === undefined) return undefined;
      }
      return node;
    }

    parentOf(path) {
      const cut = path.lastIndexOf("rules[");
      const parentPath = path.slice(0, Math.max(0, cut - 1));
      const index = Number(/\[(\d+)\]$/.exec(path)[1]);
      return [this.resolve(parentPath), index, parentPath];
    }

    // Rendering -------------------------------------------------------------------

    render() {
      if (!this.schema) return;
      const active = document.activeElement;
      const focusKey = active && this.tree.contains(active) ? active.dataset.focus : null;
      if (!isObject(this.state)) this.state = { match: "all", rules: [] };
      this.tree.replaceChildren(this.renderGroup(this.state, "", 1));
      this.updateSummary();
      this.applyHints();
      if (this.errors.length) this.showErrors(this.errors);
      this.restoreFocus(this.pendingFocus || focusKey);
      this.pendingFocus = null;
    }

    restoreFocus(key) {
      if (!key) return;
      const target = this.tree.querySelector('[data-focus="' + CSS.escape(key) + '"]');
      if (target) target.focus();
    }

    updateSummary() {
      let rules = 0;
      let groups = 0;
      const walk = (node, depth) => {
        if (!isObject(node) || depth > 8) return;
        if ("field" in node) { rules += 1; return; }
        groups += 1;
        (Array.isArray(node.rules) ? node.rules : []).forEach((c) => walk(c, depth + 1));
      };
      walk(this.state, 1);
      this.summary.textContent = rules + " rule" + (rules === 1 ? "" : "s") + " in " + groups +
        " group" + (groups === 1 ? "" : "s");
    }

    renderGroup(group, path, depth) {
      const isRoot = path === "";
      const rules = Array.isArray(group.rules) ? group.rules : [];
      const match = group.match === "any" ? "any" : "all";
      const node = el("div", { class: "cb-node cb-group cb-depth-" + Math.min(depth, 6), "data-path": path,
        role: "group", "aria-label": isRoot ? "All conditions" : "Group" });
      const matchButtons = ["all", "any"].map((m) => el("button", {
        type: "button", class: "cb-seg", "aria-pressed": String(match === m), "data-focus": path + "|match-" + m,
        "data-part": "match", text: m === "all" ? "all" : "any",
        title: m === "all" ? "Every rule below must hold" : "At least one rule below must hold",
        onclick: () => { group.match = m; this.pendingFocus = path + "|match-" + m; this.changed(true); },
      }));
      const negate = el("button", {
        type: "button", class: "cb-not", "aria-pressed": String(group.negate === true), "data-part": "negate",
        "data-focus": path + "|negate", title: "Invert the group: accounts that do NOT match it", text: "not",
        onclick: () => {
          if (group.negate === true) delete group.negate; else group.negate = true;
          this.pendingFocus = path + "|negate";
          this.changed(true);
        },
      });
      const header = el("div", { class: "cb-group-head" }, [
        isRoot ? null : this.handle(path, "group"),
        el("span", { class: "cb-word", text: isRoot ? "Match" : "Group: match" }),
        el("span", { class: "cb-segmented", role: "group", "aria-label": "Match all or any" }, matchButtons),
        el("span", { class: "cb-word", text: "of these" }),
        negate,
        el("span", { class: "cb-spacer" }),
        el("button", { type: "button", class: "cb-add cb-add-rule", "data-focus": path + "|add-rule",
          text: "+ Rule", onclick: () => this.addRule(group, path) }),
        depth < this.schema.limits.depth ? el("button", { type: "button", class: "cb-add cb-add-group",
          "data-focus": path + "|add-group", text: "+ Group", onclick: () => this.addGroup(group, path) }) : null,
        isRoot ? null : el("button", { type: "button", class: "cb-remove", "aria-label": "Remove group",
          title: "Remove this group", text: "×", onclick: () => this.remove(path) }),
      ]);
      const body = el("div", { class: "cb-children" });
      rules.forEach((child, i) => {
        const p = childPath(path, i);
        body.append(isObject(child) && !("field" in child) && ("rules" in child || "match" in child)
          ? this.renderGroup(child, p, depth + 1) : this.renderRule(child, p));
      });
      if (!rules.length) {
        body.append(el("div", { class: "cb-empty", text: match === "all"
          ? (group.negate ? "No rules: nothing matches (not everything)." : "No rules yet: every " + this.noun() + " matches. Add a rule.")
          : (group.negate ? "No rules: everything matches (not nothing)." : "No rules yet: an empty “any” group matches nothing.") }));
      }
      node.append(header, el("ul", { class: "cb-msgs" }), body);
      return node;
    }

    noun() { return this.kind === "user" ? "user" : "account"; }

    nodeAt(path) { return this.tree.querySelector('[data-path="' + CSS.escape(path) + '"]'); }

    handle(path, what) {
      return el("button", {
        type: "button", class: "cb-handle", "data-focus": path + "|handle", title: "Drag to move, or use ↑ ↓",
        "aria-label": "Move " + what + " (arrow keys)",
        onkeydown: (e) => {
          if (e.key === "ArrowUp" || e.key === "ArrowDown") { e.preventDefault(); this.shift(path, e.key === "ArrowUp" ? -1 : 1); }
        },
        onmousedown: () => { const n = this.nodeAt(path); if (n) n.draggable = true; },
      }, "⋮⋮");
    }

    renderRule(rule, path) {
      const node = el("div", { class: "cb-node cb-rule", "data-path": path, role: "group", "aria-label": "Rule" });
      const row = el("div", { class: "cb-rule-row" });
      const body = el("div", { class: "cb-rule-body" });
      row.append(this.handle(path, "rule"), body);
      this.fillRule(body, rule, path);
      row.append(el("button", { type: "button", class: "cb-remove", "aria-label": "Remove rule",
        title: "Remove this rule", text: "×", "data-focus": path + "|remove", onclick: () => this.remove(path) }));
      node.append(row, el("ul", { class: "cb-msgs" }), el("div", { class: "cb-hint", hidden: true }));
      return node;
    }

    fillRule(row, rule, path) {
      if (!isObject(rule)) {
        row.append(el("code", { class: "cb-raw", text: JSON.stringify(rule) }));
      } else {
        const field = this.fields.get(rule.field);
        row.append(this.fieldButton(rule, path, field));
        if (field) {
          this.paramEditors(rule, path, field).forEach((p) => row.append(p));
          row.append(this.opSelect(rule, path, field));
          const editor = this.valueEditor(rule, path, field);
          if (editor) row.append(editor);
        } else if (rule.field !== undefined) {
          row.append(el("code", { class: "cb-raw", text: JSON.stringify({ op: rule.op, value: rule.value }) }));
        }
      }
    }

    fieldButton(rule, path, field) {
      const label = field ? field.label : (rule.field === undefined ? "Choose a field…" : "Unknown field “" + rule.field + "”");
      const button = el("button", {
        type: "button", class: "cb-field" + (field ? "" : " cb-field-empty"), "data-part": "field",
        "data-focus": path + "|field", "aria-haspopup": "dialog", title: field ? field.group + " · " + field.key : "",
        onclick: () => this.openPicker(button, rule, path),
        onkeydown: (e) => {
          if (e.key === "ArrowDown" || (e.key.length === 1 && /\w/.test(e.key) && !e.ctrlKey && !e.metaKey)) {
            e.preventDefault();
            this.openPicker(button, rule, path, e.key.length === 1 ? e.key : "");
          }
        },
      }, [field ? el("span", { class: "cb-field-group", text: field.group }) : null, el("span", { text: label })]);
      return button;
    }

    openPicker(button, rule, path, typed) {
      picker = picker || new FieldPicker();
      picker.open(button, this.schema, rule.field, (key) => {
        this.setField(rule, key);
        this.pendingFocus = path + "|op";
        this.changed(true);
      });
      if (typed) { picker.search.value = typed; picker.filter(); }
    }

    setField(rule, key) {
      const before = this.fields.get(rule.field);
      const field = this.fields.get(key);
      rule.field = key;
      const sameFamily = before && valueFamily(before) === valueFamily(field) &&
        (before.choices_from || null) === (field.choices_from || null) &&
        JSON.stringify(before.choices) === JSON.stringify(field.choices);
      if (!sameFamily || !field.operators.includes(rule.op)) {
        rule.op = field.operators.includes(DEFAULT_OP[valueFamily(field)]) ? DEFAULT_OP[valueFamily(field)]
          : field.operators[0];
        delete rule.value;
        this.reshape(rule, null, rule.op);
      }
      const params = isObject(rule.params) ? rule.params : {};
      const next = {};
      for (const p of field.params) {
        if (params[p.name] !== undefined) next[p.name] = params[p.name];
        else if (p.name === "days" && !p.optional) next.days = 30;
      }
      if (Object.keys(next).length) rule.params = next; else delete rule.params;
    }

    /* Keep the value when it still fits the new operator, else give a sensible start. */
    reshape(rule, oldOp, newOp) {
      const had = rule.value;
      if (NO_VALUE.has(newOp)) { delete rule.value; return; }
      if (DAY_OPS.has(newOp)) { rule.value = DAY_OPS.has(oldOp) && typeof had === "number" ? had : 30; return; }
      if (newOp === "in_current") { rule.value = oldOp === "in_current" ? had : "month"; return; }
      if (LIST_OPS.has(newOp)) {
        rule.value = Array.isArray(had) && LIST_OPS.has(oldOp) ? had
          : (had !== undefined && !Array.isArray(had) && had !== "" && !DAY_OPS.has(oldOp) ? [had] : []);
        return;
      }
      if (newOp === "between") {
        rule.value = Array.isArray(had) && oldOp === "between" ? had
          : (had !== undefined && !Array.isArray(had) && !DAY_OPS.has(oldOp) ? [had, had] : [null, null]);
        return;
      }
      if (Array.isArray(had)) { if (had.length && had[0] !== null) rule.value = had[0]; else delete rule.value; return; }
      if (DAY_OPS.has(oldOp) || oldOp === "in_current") delete rule.value;
    }

    opSelect(rule, path, field) {
      const family = valueFamily(field);
      const labels = Object.assign({}, this.schema.operators.presence, this.schema.operators[family] || {});
      const select = el("select", { class: "cb-op", "data-part": "op", "data-focus": path + "|op",
        "aria-label": "Operator", onchange: () => {
          const old = rule.op;
          rule.op = select.value;
          this.reshape(rule, old, rule.op);
          this.pendingFocus = path + "|op";
          this.changed(true);
        } });
      const ops = field.operators.slice();
      if (rule.op !== undefined && !ops.includes(rule.op)) select.append(option(String(rule.op), "(invalid) " + rule.op, true));
      ops.forEach((op) => select.append(option(op, labels[op] || op, op === rule.op)));
      return select;
    }

    paramEditors(rule, path, field) {
      const params = isObject(rule.params) ? rule.params : {};
      const set = (name, value) => {
        const current = isObject(rule.params) ? rule.params : {};
        if (value === undefined || value === "") delete current[name]; else current[name] = value;
        if (Object.keys(current).length) rule.params = current; else delete rule.params;
        this.changed(false);
      };
      return field.params.map((p) => {
        const part = "params." + p.name;
        const focus = path + "|" + part;
        if (p.name === "days") {
          const input = el("input", { type: "number", min: 0, max: p.max, step: 1, class: "cb-num cb-days",
            "data-part": part, "data-focus": focus, "aria-label": "Days",
            value: params.days === undefined ? "" : String(params.days),
            oninput: () => set("days", input.value === "" ? undefined : Number(input.value)) });
          return el("span", { class: "cb-param" }, ["over the last", input, "days"]);
        }
        if (p.choices) {
          const select = el("select", { class: "cb-param-select", "data-part": part, "data-focus": focus,
            "aria-label": p.name, onchange: () => set(p.name, select.value || undefined) });
          select.append(option("", p.optional ? "any " + p.name : "choose " + p.name, params[p.name] === undefined));
          p.choices.forEach((c) => select.append(option(c.value, c.label, c.value === params[p.name])));
          return el("span", { class: "cb-param" }, [p.name, select]);
        }
        const input = el("input", { type: "text", class: "cb-text cb-feature", "data-part": part, "data-focus": focus,
          placeholder: p.optional ? "any " + p.name : p.name, "aria-label": p.name,
          value: params[p.name] === undefined ? "" : String(params[p.name]),
          oninput: () => set(p.name, input.value === "" ? undefined : input.value) });
        return el("span", { class: "cb-param" }, [p.name === "feature" ? "of" : "", input]);
      });
    }

    choicesFor(field) {
      if (field.choices_from) return this.schema.segments;
      if (field.type === "user") return this.staff || [];
      return field.choices;
    }

    valueEditor(rule, path, field) {
      const op = rule.op;
      if (NO_VALUE.has(op)) return null;
      const family = valueFamily(field);
      const focus = path + "|value";
      if (DAY_OPS.has(op)) {
        const input = this.scalarInput(rule, "number", focus, 0);
        input.step = 1; input.min = 0;
        return el("span", { class: "cb-value" }, [input, this.schema.day_suffixes[op] || "days"]);
      }
      if (op === "in_current") {
        const select = el("select", { class: "cb-value-select", "data-part": "value", "data-focus": focus,
          "aria-label": "Period", onchange: () => { rule.value = select.value; this.changed(false); } });
        this.schema.periods.forEach((p) => select.append(option(p.value, p.label, p.value === rule.value)));
        return el("span", { class: "cb-value" }, select);
      }
      if (family === "user" && !this.staff) {
        this.loadStaff().then(() => this.render());
      }
      if (LIST_OPS.has(op)) {
        if (family === "choice" || family === "user") return this.multiChoice(rule, path, this.choicesFor(field));
        return this.tags(rule, path, family === "number");
      }
      if (op === "between") {
        const type = family === "date" ? "date" : "number";
        return el("span", { class: "cb-value" }, [this.scalarInput(rule, type, focus, 0, true), "and",
          this.scalarInput(rule, type, focus + "-2", 1, true)]);
      }
      if (family === "choice" || family === "user") {
        const select = el("select", { class: "cb-value-select", "data-part": "value", "data-focus": focus,
          "aria-label": "Value", onchange: () => {
            if (select.value === "") delete rule.value; else rule.value = select.value;
            this.changed(false);
          } });
        select.append(option("", "choose…", rule.value === undefined));
        const choices = this.choicesFor(field);
        if (rule.value !== undefined && !choices.some((c) => c.value === rule.value)) {
          select.append(option(String(rule.value), "(unknown) " + rule.value, true));
        }
        choices.forEach((c) => select.append(option(c.value, c.label, c.value === rule.value)));
        return el("span", { class: "cb-value" }, select);
      }
      return el("span", { class: "cb-value" }, this.scalarInput(rule, family === "date" ? "date" :
        family === "number" ? "number" : "text", focus, 0));
    }

    /* One input bound to rule.value (or rule.value[index] for between). */
    scalarInput(rule, type, focus, index, inPair) {
      const current = inPair ? (Array.isArray(rule.value) ? rule.value[index] : undefined) : rule.value;
      const input = el("input", {
        type: type, class: "cb-" + (type === "number" ? "num" : type), "data-part": "value",
        "data-focus": focus, "aria-label": inPair ? (index ? "To" : "From") : "Value",
        step: type === "number" ? "any" : null,
        value: current === undefined || current === null ? "" : String(current),
      });
      input.addEventListener("input", () => {
        let value = input.value;
        if (type === "number") value = value === "" ? undefined : Number(value);
        else if (value === "" && type === "date") value = undefined;
        if (inPair) {
          const pair = Array.isArray(rule.value) ? rule.value.slice(0, 2) : [null, null];
          while (pair.length < 2) pair.push(null);
          pair[index] = value === undefined ? null : value;
          rule.value = pair;
        } else if (value === undefined) {
          delete rule.value;
        } else {
          rule.value = value;
        }
        this.changed(false);
      });
      return input;
    }

    multiChoice(rule, path, choices) {
      const values = Array.isArray(rule.value) ? rule.value : [];
      const labelOf = (v) => (choices.find((c) => c.value === v) || { label: String(v) }).label;
      const wrap = el("span", { class: "cb-value cb-multi", "data-part": "value" });
      values.forEach((v, i) => wrap.append(this.chip(labelOf(v), () => {
        values.splice(i, 1); rule.value = values; this.pendingFocus = path + "|value"; this.changed(true);
      })));
      const select = el("select", { class: "cb-add-choice", "data-focus": path + "|value", "aria-label": "Add a value",
        onchange: () => {
          if (!select.value) return;
          rule.value = values.concat([select.value]);
          this.pendingFocus = path + "|value";
          this.changed(true);
        } });
      select.append(option("", values.length ? "+ add…" : "choose…", true));
      choices.filter((c) => !values.includes(c.value)).forEach((c) => select.append(option(c.value, c.label)));
      wrap.append(select);
      return wrap;
    }

    tags(rule, path, numeric) {
      const values = Array.isArray(rule.value) ? rule.value : [];
      const wrap = el("span", { class: "cb-value cb-multi", "data-part": "value" });
      values.forEach((v, i) => wrap.append(this.chip(String(v), () => {
        values.splice(i, 1); rule.value = values; this.pendingFocus = path + "|value"; this.changed(true);
      })));
      const input = el("input", { type: "text", class: "cb-tag-input", "data-focus": path + "|value",
        placeholder: numeric ? "number, Enter" : "value, Enter", "aria-label": "Add a value" });
      const add = () => {
        const raw = input.value;
        if (raw === "") return false;
        const value = numeric && raw.trim() !== "" && isFinite(Number(raw)) ? Number(raw) : raw;
        rule.value = values.concat([value]);
        this.pendingFocus = path + "|value";
        this.changed(true);
        return true;
      };
      input.addEventListener("keydown", (e) => {
        if (e.key === "Enter" || (e.key === "," && numeric)) { e.preventDefault(); add(); }
        else if (e.key === "Backspace" && input.value === "" && values.length) {
          values.pop(); rule.value = values; this.pendingFocus = path + "|value"; this.changed(true);
        }
      });
      input.addEventListener("blur", () => { if (input.value !== "") add(); });
      wrap.append(input);
      return wrap;
    }

    chip(label, onRemove) {
      return el("span", { class: "cb-chip" }, [el("span", { text: label }),
        el("button", { type: "button", class: "cb-chip-x", "aria-label": "Remove " + label, text: "×",
          onclick: onRemove })]);
    }

    // Editing the tree ------------------------------------------------------------

    addRule(group, path) {
      if (!Array.isArray(group.rules)) group.rules = [];
      group.rules.push({});
      const newPath = childPath(path, group.rules.length - 1);
      this.changed(true);
      const button = this.tree.querySelector('[data-focus="' + CSS.escape(newPath + "|field") + '"]');
      if (button) { button.focus(); this.openPicker(button, group.rules[group.rules.length - 1], newPath); }
    }

    addGroup(group, path) {
      if (!Array.isArray(group.rules)) group.rules = [];
      group.rules.push({ match: group.match === "any" ? "all" : "any", rules: [{}] });
      const groupPath = childPath(path, group.rules.length - 1);
      this.changed(true);
      const rulePath = childPath(groupPath, 0);
      const button = this.tree.querySelector('[data-focus="' + CSS.escape(rulePath + "|field") + '"]');
      const created = this.resolve(rulePath);
      if (button) { button.focus(); this.openPicker(button, created, rulePath); }
    }

    remove(path) {
      const [parent, index, parentPath] = this.parentOf(path);
      parent.rules.splice(index, 1);
      this.errors = [];
      this.pendingFocus = parentPath + "|add-rule";
      this.changed(true);
    }

    shift(path, delta) {
      const [parent, index, parentPath] = this.parentOf(path);
      const target = index + delta;
      if (target < 0 || target >= parent.rules.length) return;
      const [item] = parent.rules.splice(index, 1);
      parent.rules.splice(target, 0, item);
      this.errors = [];
      this.pendingFocus = childPath(parentPath, target) + "|handle";
      this.changed(true);
    }

    move(fromPath, toPath, where) {
      if (fromPath === toPath || (toPath + ".").startsWith(fromPath + ".")) return;
      const [fromParent, fromIndex] = this.parentOf(fromPath);
      const item = fromParent.rules[fromIndex];
      const target = this.resolve(toPath);
      const toParent = where === "inside" ? target : this.parentOf(toPath)[0];
      fromParent.rules.splice(fromIndex, 1);
      if (where === "inside") {
        if (!Array.isArray(target.rules)) target.rules = [];
        target.rules.push(item);
      } else {
        const at = toParent.rules.indexOf(target);
        toParent.rules.splice(where === "before" ? at : at + 1, 0, item);
      }
      this.errors = [];
      this.changed(true);
    }

    bindDrag() {
      let dragging = null;
      const clear = () => this.tree.querySelectorAll(".cb-drop-before,.cb-drop-after,.cb-drop-inside")
        .forEach((n) => n.classList.remove("cb-drop-before", "cb-drop-after", "cb-drop-inside"));
      const spot = (e) => {
        const node = e.target.closest && e.target.closest(".cb-node");
        if (!node || !dragging) return null;
        const path = node.dataset.path;
        if (path === dragging || (path + ".").startsWith(dragging + ".")) return null;
        const isGroup = node.classList.contains("cb-group");
        const head = isGroup ? node.querySelector(":scope > .cb-group-head") : node;
        const rect = head.getBoundingClientRect();
        if (path === "" || (isGroup && !head.contains(e.target))) return { node: node, path: path, where: "inside" };
        return { node: node, path: path, where: e.clientY < rect.top + rect.height / 2 ? "before" : "after" };
      };
      this.tree.addEventListener("dragstart", (e) => {
        const node = e.target.closest && e.target.closest(".cb-node");
        if (!node || !node.draggable) return;
        dragging = node.dataset.path;
        node.classList.add("cb-dragging");
        e.dataTransfer.effectAllowed = "move";
        e.dataTransfer.setData("text/plain", dragging);
      });
      this.tree.addEventListener("dragover", (e) => {
        const where = spot(e);
        clear();
        if (!where) return;
        e.preventDefault();
        e.dataTransfer.dropEffect = "move";
        where.node.classList.add("cb-drop-" + where.where);
      });
      this.tree.addEventListener("drop", (e) => {
        const where = spot(e);
        clear();
        if (!where) return;
        e.preventDefault();
        const from = dragging;
        dragging = null;
        this.move(from, where.path, where.where);
      });
      this.tree.addEventListener("dragend", () => {
        clear();
        dragging = null;
        this.tree.querySelectorAll(".cb-node[draggable=true]").forEach((n) => {
          n.draggable = false; n.classList.remove("cb-dragging");
        });
      });
      this.tree.addEventListener("mouseup", () => {
        if (!dragging) this.tree.querySelectorAll(".cb-node[draggable=true]").forEach((n) => { n.draggable = false; });
      });
    }

    // Errors and hints --------------------------------------------------------------

    showErrors(errors) {
      this.errors = errors;
      this.tree.querySelectorAll(".cb-msgs").forEach((m) => m.replaceChildren());
      this.tree.querySelectorAll(".cb-invalid").forEach((n) => n.classList.remove("cb-invalid"));
      this.tree.querySelectorAll(".cb-has-error").forEach((n) => n.classList.remove("cb-has-error"));
      for (const error of errors) {
        const where = splitPath(error.path);
        let node = this.tree.querySelector('[data-path="' + CSS.escape(where.node) + '"]');
        let part = where.part;
        if (!node) { node = this.tree.querySelector('[data-path=""]'); part = error.path; }
        if (!node) continue;
        const target = this.resolve(where.node);
        if (node.classList.contains("cb-rule") && isObject(target) && !Object.keys(target).length) {
          // A rule just added: ask for a field rather than shout.
          const msgs = node.querySelector(":scope > .cb-msgs");
          if (!msgs.children.length) msgs.append(el("li", { class: "cb-pending", text: "Choose a field to start this rule." }));
          continue;
        }
        node.classList.add("cb-has-error");
        const msgs = node.querySelector(":scope > .cb-msgs");
        msgs.append(el("li", { class: "cb-error", text: (part ? part + ": " : "") + error.message }));
        const head = part.startsWith("params.") ? part.split("[")[0] : part.split(/[\[.]/)[0];
        if (head) {
          const scope = node.classList.contains("cb-group") ? node.querySelector(":scope > .cb-group-head")
            : node.querySelector(":scope > .cb-rule-row");
          if (scope) scope.querySelectorAll('[data-part="' + CSS.escape(head) + '"]').forEach((n) => n.classList.add("cb-invalid"));
        }
      }
    }

    applyHints() {
      this.tree.querySelectorAll(".cb-rule").forEach((node) => {
        const rule = this.resolve(node.dataset.path);
        const hintBox = node.querySelector(":scope > .cb-hint");
        const found = isObject(rule) && rule.field ? this.hints[auditKey(rule)] : null;
        // Only a field with gaps deserves a note at the rule (the panel lists them all).
        const hint = found && found.missing > 0 ? found : null;
        hintBox.hidden = !hint;
        if (!hint) return;
        hintBox.className = "cb-hint" + (hint.missing_pct >= 20 ? " cb-hint-warn" : "");
        hintBox.replaceChildren(el("span", { class: "cb-hint-icon", "aria-hidden": "true",
          text: hint.missing_pct >= 20 ? "!" : "i" }), el("span", { text: hint.sentence }));
      });
    }

    // Preview ---------------------------------------------------------------------

    expectations() {
      const read = (id) => {
        const ta = document.getElementById(id);
        try { const v = JSON.parse(ta ? ta.value : "[]"); return Array.isArray(v) ? v : []; } catch (e) { return []; }
      };
      return { expect_members: read("id_expect_members"), expect_non_members: read("id_expect_non_members") };
    }

    async preview() {
      if (!this.schema) return;
      const seq = ++this.seq;
      if (this.controller) this.controller.abort();
      this.controller = new AbortController();
      this.previewPane.classList.add("cb-busy");
      this.pv.state.textContent = "updating…";
      let result;
      try {
        result = await postJSON(this.config.previewUrl, Object.assign({
          kind: this.kind, conditions: this.state, segment: this.config.segment,
        }, this.expectations()), this.controller.signal);
      } catch (e) {
        if (e.name === "AbortError") return;
        result = { status: 0, data: null };
      }
      if (seq !== this.seq) return;
      this.previewPane.classList.remove("cb-busy");
      if (result.status === 200) {
        this.showErrors([]);
        this.renderPreview(result.data);
        this.audit();
      } else if (result.status === 400 && result.data && result.data.errors) {
        this.showErrors(result.data.errors);
        this.renderInvalid(result.data.errors);
      } else {
        this.pv.state.textContent = "preview unavailable (HTTP " + result.status + ")";
      }
      document.dispatchEvent(new CustomEvent("cb:preview", { detail: result.status === 200 ? result.data : null }));
    }

    async audit() {
      const key = JSON.stringify(this.ruleKeys());
      if (key === this.auditFor) { this.applyHints(); return; }
      this.auditFor = key;
      const result = await postJSON(this.config.completenessUrl, { kind: this.kind, conditions: this.state });
      if (result.status !== 200 || key !== this.auditFor) return;
      this.hints = {};
      for (const f of result.data.fields) this.hints[auditKey({ field: f.field, params: f.params })] = f;
      this.applyHints();
      this.renderAudit(result.data.fields);
    }

    ruleKeys() {
      const keys = [];
      const walk = (node, depth) => {
        if (!isObject(node) || depth > 8) return;
        if ("field" in node) { keys.push(auditKey(node)); return; }
        (Array.isArray(node.rules) ? node.rules : []).forEach((c) => walk(c, depth + 1));
      };
      walk(this.state, 1);
      return Array.from(new Set(keys)).sort();
    }

    renderPreviewShell() {
      const pv = {
        state: el("span", { class: "cb-pv-state" }),
        number: el("span", { class: "cb-pv-number", text: "–" }),
        unit: el("span", { class: "cb-pv-unit", text: this.noun() + "s match" }),
        share: el("div", { class: "cb-pv-share" }),
        bar: el("span", { class: "cb-pv-fill" }),
        diff: el("div", { class: "cb-pv-diff" }),
        sentence: el("blockquote", { class: "cb-pv-sentence" }),
        expect: el("div", { class: "cb-pv-expect", hidden: true }),
        sample: el("div", { class: "cb-pv-sample" }),
        audit: el("div", { class: "cb-pv-audit", hidden: true }),
        errors: el("div", { class: "cb-pv-errors", hidden: true }),
      };
      this.pv = pv;
      this.previewPane.append(
        el("div", { class: "cb-pv-head" }, [el("h3", { text: "Live preview" }), pv.state]),
        el("div", { class: "cb-pv-count" }, [pv.number, pv.unit]), pv.share,
        el("div", { class: "cb-pv-bar" }, pv.bar), pv.diff, pv.errors, pv.sentence, pv.expect, pv.sample, pv.audit,
      );
    }

    renderInvalid(errors) {
      const pv = this.pv;
      pv.state.textContent = "waiting for valid conditions";
      this.previewPane.classList.add("cb-invalid-state");
      pv.errors.hidden = false;
      pv.errors.replaceChildren(el("strong", { text: errors.length + " problem" + (errors.length === 1 ? "" : "s") +
        " to fix" }), el("ul", {}, errors.slice(0, 8).map((e) => el("li", { text: (e.path ? e.path + ": " : "") + e.message }))));
    }

    renderPreview(data) {
      const pv = this.pv;
      this.previewPane.classList.remove("cb-invalid-state");
      pv.errors.hidden = true;
      pv.state.textContent = "answered in " + data.elapsed_ms + " ms";
      pv.number.textContent = fmt(data.count);
      pv.unit.textContent = (data.count === 1 ? this.noun() + " matches" : this.noun() + "s match");
      const share = data.total ? (100 * data.count / data.total) : 0;
      pv.share.textContent = "of " + fmt(data.total) + " (" + (share < 1 && share > 0 ? "<1" : share.toFixed(0)) + "%)";
      pv.bar.style.width = Math.min(100, share) + "%";
      if (data.compared) {
        pv.diff.replaceChildren(
          el("span", { class: "cb-join", title: data.joining_sample.join("\n"), text: "▲ " + fmt(data.joining) + " would join" }),
          el("span", { class: "cb-leave", title: data.leaving_sample.join("\n"), text: "▼ " + fmt(data.leaving) + " would leave" }),
          el("span", { class: "cb-muted", text: "vs " + fmt(data.current) + " members now" }));
      } else {
        pv.diff.replaceChildren(el("span", { class: "cb-muted", text: "New segment: members are computed when you save." }));
      }
      pv.sentence.textContent = data.sentence;
      this.renderExpectations(data.expectations);
      const table = el("table", {}, [el("thead", {}, el("tr", {}, data.columns.map((c) => el("th", { text: c })))),
        el("tbody", {}, data.sample.map((row) => el("tr", {}, [
          el("td", {}, el("a", { href: row.url, target: "_blank", title: row.detail, text: row.label })),
        ].concat(row.cells.map((c) => el("td", { text: c }))))))]);
      pv.sample.replaceChildren(el("h4", { text: data.sample.length ? "Sample (largest first)" : "No match" }),
        data.sample.length ? table : el("p", { class: "cb-muted", text: "Nothing matches these conditions." }));
    }

    renderExpectations(checks) {
      const pv = this.pv;
      pv.expect.hidden = !checks.length;
      if (!checks.length) return;
      const honoured = checks.filter((c) => c.honoured).length;
      pv.expect.className = "cb-pv-expect " + (honoured === checks.length ? "cb-ok" : "cb-bad");
      pv.expect.replaceChildren(
        el("h4", { text: "Expectations: " + honoured + " of " + checks.length + " honoured" }),
        el("ul", {}, checks.map((c) => el("li", { class: c.honoured ? "cb-ok" : "cb-bad" },
          (c.honoured ? "✓ " : "✗ ") + c.label + (c.expected === "in" ? (c.in_preview ? " is in" : " is NOT in")
            : (c.in_preview ? " IS in (must not be)" : " is out"))))));
    }

    renderAudit(fields) {
      const pv = this.pv;
      pv.audit.hidden = !fields.length;
      pv.audit.replaceChildren(el("h4", { text: "Data completeness" }), el("ul", {}, fields.map((f) =>
        el("li", { class: f.missing_pct >= 20 ? "cb-hint-warn" : "" }, [
          el("span", { class: "cb-meter", title: (100 - f.missing_pct) + "% have a value" },
            el("span", { style: "width:" + (100 - f.missing_pct) + "%" })),
          el("span", { class: "cb-audit-text", text: f.sentence })]))));
    }
  }

  // Expectations: chips with autocomplete ---------------------------------------------

  class Expectations {
    constructor(root) {
      this.root = root;
      this.config = JSON.parse(root.dataset.config || "{}");
      this.textarea = root.querySelector("textarea");
      this.app = root.querySelector(".xp-app");
      this.labels = {};
      this.status = {};
      this.values = this.read();
      this.chips = el("span", { class: "xp-chips" });
      this.input = el("input", { type: "text", class: "xp-input", autocomplete: "off",
        placeholder: "Search by name or external id…", "aria-label": this.config.role === "in"
          ? "Add an account that must be in" : "Add an account that must not be in" });
      this.menu = el("div", { class: "xp-menu", role: "listbox", hidden: true });
      this.app.append(this.chips, el("span", { class: "xp-search" }, [this.input, this.menu]));
      this.root.classList.add("xp-ready");
      this.lookup = debounce(() => this.search(), 200);
      this.input.addEventListener("input", () => this.lookup());
      this.input.addEventListener("focus", () => this.lookup());
      this.input.addEventListener("keydown", (e) => this.onKey(e));
      this.input.addEventListener("blur", () => setTimeout(() => { this.menu.hidden = true; }, 150));
      document.addEventListener("cb:preview", (e) => this.mark(e.detail));
      this.render();
      if (this.values.length) this.fetchLabels();
    }

    kind() {
      const input = this.config.kindInput && document.getElementById(this.config.kindInput);
      return this.config.kind || (input ? input.value : "account");
    }

    read() {
      try { const v = JSON.parse(this.textarea.value || "[]"); return Array.isArray(v) ? v : []; } catch (e) { return []; }
    }

    write() {
      this.textarea.value = JSON.stringify(this.values);
      document.dispatchEvent(new CustomEvent("cb:expectations"));
    }

    async fetchLabels() {
      const params = new URLSearchParams({ kind: this.kind(), ids: this.values.join(",") });
      try {
        const data = await getJSON(this.config.lookupUrl + "?" + params.toString());
        data.results.forEach((r) => { this.labels[r.value] = r.label; });
        this.render();
      } catch (e) { /* labels are a nicety */ }
    }

    render() {
      this.chips.replaceChildren(...this.values.map((v) => {
        const state = this.status[v];
        const mark = state === undefined ? "" : (state ? "✓" : "✗");
        return el("span", { class: "cb-chip xp-chip" + (state === undefined ? "" : state ? " xp-ok" : " xp-bad"),
          "data-id": v, title: state === undefined ? "" : state ? "The preview honours this" : "The preview contradicts this" }, [
          mark ? el("span", { class: "xp-mark", text: mark }) : null,
          el("span", { text: this.labels[v] || v }),
          el("button", { type: "button", class: "cb-chip-x", "aria-label": "Remove " + v, text: "×",
            onclick: () => { this.values = this.values.filter((x) => x !== v); this.render(); this.write(); } }),
        ]);
      }));
    }

    async search() {
      const params = new URLSearchParams({ kind: this.kind(), q: this.input.value.trim() });
      let results = [];
      try { results = (await getJSON(this.config.lookupUrl + "?" + params.toString())).results; } catch (e) { results = []; }
      this.results = results.filter((r) => !this.values.includes(r.value));
      this.active = 0;
      this.menu.replaceChildren(...this.results.map((r, i) => el("div", {
        class: "xp-option" + (i === 0 ? " cb-active" : ""), role: "option", "data-value": r.value, text: r.label,
        onmousedown: (e) => { e.preventDefault(); this.add(r); },
      })));
      this.menu.hidden = !this.results.length || document.activeElement !== this.input;
    }

    onKey(e) {
      const options = Array.from(this.menu.children);
      if (e.key === "ArrowDown" || e.key === "ArrowUp") {
        e.preventDefault();
        if (!options.length) return;
        this.active = (this.active + (e.key === "ArrowDown" ? 1 : -1) + options.length) % options.length;
        options.forEach((o, i) => o.classList.toggle("cb-active", i === this.active));
      } else if (e.key === "Enter") {
        e.preventDefault();
        if (!this.menu.hidden && this.results && this.results[this.active]) this.add(this.results[this.active]);
      } else if (e.key === "Escape") {
        this.menu.hidden = true;
      }
    }

    add(result) {
      this.labels[result.value] = result.label;
      this.values = this.values.concat([result.value]);
      this.input.value = "";
      this.menu.hidden = true;
      this.render();
      this.write();
    }

    mark(data) {
      this.status = {};
      if (data && data.expectations) {
        for (const c of data.expectations) {
          if ((c.expected === "in") === (this.config.role === "in")) {
            this.status[c.external_id] = c.honoured;
            this.labels[c.external_id] = c.label;
          }
        }
      }
      this.render();
    }
  }

  function init() {
    document.querySelectorAll(".cb-root:not(.cb-ready)").forEach((root) => { root.builder = new Builder(root); });
    document.querySelectorAll(".xp-root:not(.xp-ready)").forEach((root) => { root.expectations = new Expectations(root); });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
