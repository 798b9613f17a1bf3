// nova-resize report viewer: step through a trace, see the whole world at each step with what
// changed highlighted, and the spec rows that ran with their Nova citations. No network, no
// library: the trace data is inline JSON beside each viewer.
(function () {
  "use strict";
  var ROWS = JSON.parse(document.getElementById("spec-rows").textContent || "{}");

  function h(tag, attrs, children) {
    var e = document.createElement(tag);
    if (attrs) for (var k in attrs) {
      if (k === "text") e.textContent = attrs[k];
      else if (k === "cls") e.className = attrs[k];
      else e.setAttribute(k, attrs[k]);
    }
    (children || []).forEach(function (c) {
      if (c === null || c === undefined) return;
      e.appendChild(typeof c === "string" ? document.createTextNode(c) : c);
    });
    return e;
  }
  function show(v) {
    if (v === null || v === undefined) return "—";
    if (Array.isArray(v)) return v.length ? v.map(show).join(", ") : "∅";
    if (typeof v === "object") {
      var parts = [];
      for (var k in v) parts.push(k + "=" + show(v[k]));
      return parts.join(", ");
    }
    return String(v);
  }
  function same(a, b) { return JSON.stringify(a) === JSON.stringify(b); }
  function plural(n, unit) {
    // "1 vCPU", "2 vCPUs", "1 instance"; MB and GB as they are
    return n + " " + (n === 1 && /[a-z]s$/.test(unit) ? unit.slice(0, -1) : unit);
  }

  // ---- the world, as tables ------------------------------------------------------------------
  // A table: columns, and rows keyed so that a row is compared with the same row of the
  // previous step. A cell that changed is marked "changed", a row that appeared "added", a row
  // that disappeared is shown struck through ("removed").
  function table(title, cols, rows, prevRows, unitNote) {
    var prevBy = {};
    (prevRows || []).forEach(function (r) { prevBy[r.key] = r; });
    var seen = {};
    var body = [];
    rows.forEach(function (r) {
      seen[r.key] = true;
      var p = prevRows ? prevBy[r.key] : r;
      var tr = h("tr", {cls: p ? "" : "added", "data-key": r.key});
      cols.forEach(function (c, i) {
        var v = r.cells[i];
        var changed = p && !same(v, p.cells[i]);
        tr.appendChild(h("td", {cls: changed ? "changed" : "", "data-col": c,
                                title: changed ? "was: " + show(p.cells[i]) : ""},
                         [show(v)]));
      });
      body.push(tr);
    });
    (prevRows || []).forEach(function (r) {
      if (seen[r.key]) return;
      var tr = h("tr", {cls: "removed", "data-key": r.key});
      r.cells.forEach(function (v, i) {
        tr.appendChild(h("td", {"data-col": cols[i]}, [show(v)]));
      });
      body.push(tr);
    });
    if (!body.length) return h("div", {cls: "wt empty"}, [h("h4", {text: title}), "none"]);
    var head = h("tr", null, cols.map(function (c) { return h("th", {text: c}); }));
    return h("div", {cls: "wt", "data-table": title}, [
      h("h4", {text: title}, unitNote ? [h("small", {text: " " + unitNote})] : []),
      h("table", null, [h("thead", null, [head]), h("tbody", null, body)])]);
  }

  function tables(s) {
    // every table of a state: {title: [cols, rows, note]}
    var out = [];
    var insts = s.instances || {};
    var icols = ["name", "status", "vm_state", "task_state", "host", "flavor", "old_flavor",
                 "new_flavor", "old_vm_state", "power_state", "launched", "locked", "deleted"];
    out.push(["instances", icols, Object.keys(insts).map(function (n) {
      var i = insts[n];
      return {key: n, cells: icols.map(function (c) { return c === "name" ? n : i[c]; })};
    })]);
    var mcols = ["id", "instance", "status", "source", "dest", "old_flavor", "new_flavor",
                 "migration_type"];
    out.push(["migrations", mcols, (s.migrations || []).map(function (m) {
      return {key: m.id, cells: mcols.map(function (c) { return m[c]; })};
    })]);
    var q = s.quota || {};
    var byr = q.by_resource;
    if (!byr && q.in_use) {
      byr = {};
      ["instances", "cores", "ram"].forEach(function (r, k) {
        byr[r] = {in_use: q.in_use[k], reserved: (q.reserved || [])[k],
                  unit: {instances: "instances", cores: "vCPUs", ram: "MB"}[r]};
      });
    }
    out.push(["quota", ["resource", "in use", "reserved"], Object.keys(byr || {}).map(
      function (r) {
        var b = byr[r];
        return {key: r, cells: [r, plural(b.in_use, b.unit), plural(b.reserved, b.unit)]};
      })]);
    var rcols = ["id", "status", "deltas", "reserved by"];
    var units = {instances: "instances", cores: "vCPUs", ram: "MB"};
    var rd = s.reservation_details || (s.reservations || []).map(function (r) {
      return {id: r[0], status: r[1]};
    });
    out.push(["reservations", rcols, rd.map(function (r) {
      var d = r.deltas ? Object.keys(r.deltas).map(function (k) {
        return (r.deltas[k] > 0 ? "+" : "") + r.deltas[k] + " " + (units[k] || k);
      }).join(", ") : null;
      return {key: r.id, cells: [r.id, r.status, d, r.row]};
    })]);
    var hosts = s.hosts || {};
    var hcols = ["host", "status", "vCPUs used", "memory used", "disk used",
                 "tracked instances", "tracked migrations", "disks", "running guests"];
    out.push(["hosts", hcols, Object.keys(hosts).map(function (n) {
      var x = hosts[n];
      var u = x.used || {vcpus: x.usage[0], memory_mb: x.usage[1], root_gb: x.usage[2]};
      var tm = (x.tracked_migrations || []).map(function (t) {
        return t.instance + " " + t.flavor + " (" + t.migration + ")";
      });
      return {key: n, cells: [n, x.status, plural(u.vcpus, "vCPUs"), plural(u.memory_mb, "MB"),
                              plural(u.root_gb, "GB"), x.tracked_instances, tm, x.disks,
                              x.running]};
    })]);
    var msgs = s.messages || (s.in_flight || []).map(function (t) { return {text: t}; });
    var mcount = {};
    out.push(["messages in flight", ["kind", "method", "to", "instance", "migration",
                                     "reply to"], msgs.map(function (m) {
      var id = m.text || [m.kind, m.method, m.target, m.instance, m.migration, m.reply_to,
                          JSON.stringify(m.args)].join("|");
      mcount[id] = (mcount[id] || 0) + 1;
      if (m.text) return {key: id + "#" + mcount[id], cells: [m.text, null, null, null, null,
                                                              null]};
      return {key: id + "#" + mcount[id], cells: [m.kind, m.method, m.target, m.instance,
                                                  m.migration, m.reply_to]};
    })]);
    if (s.handlers) {
      out.push(["running handlers", ["id", "service", "method", "at", "its instance copy",
                                     "waiting", "exception"], s.handlers.map(function (f) {
        var copy = f.instance_copy ? f.instance_copy.vm_state + "/" +
          (f.instance_copy.task_state || "None") : null;
        return {key: f.id + "@" + f.service, cells: [f.id, f.service, f.method,
                                                     f.handler + ":" + f.label, copy,
                                                     f.waiting, f.exception]};
      })]);
    }
    if (s.budgets) {
      out.push(["remaining budgets", ["what", "left"], Object.keys(s.budgets).map(function (k) {
        return {key: k, cells: [k.replace("op:", "request ").replace("fault:", "fault "),
                                s.budgets[k]]};
      })]);
    }
    return out;
  }

  function renderWorld(el, state, prev) {
    el.textContent = "";
    if (!state) {
      el.appendChild(h("p", {cls: "note", text: "This report carries no world state for this " +
                                                "step."}));
      return;
    }
    var now = tables(state);
    var before = prev ? tables(prev) : null;
    now.forEach(function (t, k) {
      var p = null;
      if (before) before.forEach(function (b) { if (b[0] === t[0]) p = b[2]; });
      el.appendChild(table(t[0], t[1], t[2], before ? (p || []) : null));
    });
  }

  function renderStep(el, step, n, total) {
    el.textContent = "";
    if (!step) {
      el.appendChild(h("p", {cls: "where"}, [h("b", {text: "Before the first step"}),
                                             " (" + total + " steps follow)"]));
      return;
    }
    var rows = (step.rows || []).map(function (r) {
      var c = ROWS[r];
      return h("li", {"data-row": r}, [h("code", {text: r}),
        c ? h("span", {cls: "cite", text: " — " + c.cite}) : h("span", {cls: "cite",
          text: r.indexOf("rpc.") === 0 || r.indexOf("compute.service") === 0 ?
                " — the engine (message bus / service)" : ""}),
        c && c.summary ? h("div", {cls: "summary", text: c.summary}) : null]);
    });
    el.appendChild(h("p", {cls: "where"}, [h("b", {text: "Step " + n + " of " + total}), ": ",
      h("span", {cls: "actor", text: step.actor || ""}), " ", h("span", {cls: "action",
      text: step.action || ""}), step.outcome ? h("span", {cls: "outcome",
      text: " [" + step.outcome + "]"}) : null]));
    el.appendChild(rows.length ? h("div", {cls: "rows"}, [h("h4", {text: "spec rows that ran"}),
      h("ul", null, rows)]) : h("p", {cls: "note", text: "no spec row ran"}));
  }

  // ---- viewers ---------------------------------------------------------------------------------
  var viewers = [];
  function Viewer(root) {
    this.root = root;
    this.data = null;
    this.pos = 0;
    viewers.push(this);
    var self = this;
    root.querySelector(".controls").addEventListener("click", function (ev) {
      var b = ev.target.closest("button");
      if (!b) return;
      var act = b.getAttribute("data-act");
      var n = self.total();
      var to = {first: 0, prev: self.pos - 1, next: self.pos + 1, last: n}[act];
      self.go(to, true);
    });
    root.querySelector(".scrub").addEventListener("input", function (ev) {
      self.go(parseInt(ev.target.value, 10), true);
    });
    root.querySelectorAll("g.step").forEach(function (g) {
      g.addEventListener("click", function () {
        self.go(parseInt(g.getAttribute("data-step"), 10), true);
      });
    });
    root.addEventListener("keydown", function (ev) {
      if (ev.target.tagName === "INPUT") return;
      var d = {ArrowRight: 1, ArrowDown: 1, ArrowLeft: -1, ArrowUp: -1}[ev.key];
      if (d) { self.go(self.pos + d, true); ev.preventDefault(); }
      if (ev.key === "Home") { self.go(0, true); ev.preventDefault(); }
      if (ev.key === "End") { self.go(self.total(), true); ev.preventDefault(); }
    });
    root.tabIndex = 0;
  }
  Viewer.prototype.load = function () {
    if (!this.data) {
      var id = this.root.getAttribute("data-trace");
      this.data = JSON.parse(document.getElementById(id).textContent);
      var sc = this.root.querySelector(".scrub");
      sc.max = String(this.total());
    }
  };
  Viewer.prototype.total = function () { this.load(); return this.data.steps.length; };
  Viewer.prototype.state = function (n) {
    if (n <= 0) return this.data.initial;
    return this.data.steps[n - 1] ? this.data.steps[n - 1].state : null;
  };
  Viewer.prototype.go = function (n, propagate) {
    this.load();
    var total = this.total();
    n = Math.max(0, Math.min(total, isNaN(n) ? 0 : n));
    this.pos = n;
    this.root.setAttribute("data-pos", String(n));
    this.root.querySelector(".pos").textContent = "step " + n + " / " + total;
    this.root.querySelector(".scrub").value = String(n);
    this.root.querySelectorAll("g.step").forEach(function (g) {
      var k = parseInt(g.getAttribute("data-step"), 10);
      g.classList.toggle("current", k === n);
      g.classList.toggle("past", k < n);
    });
    this.root.querySelectorAll("g.msg").forEach(function (g) {
      var from = parseInt(g.getAttribute("data-from"), 10);
      var to = parseInt(g.getAttribute("data-to"), 10);
      g.classList.toggle("active", from <= n && n < to);
      g.classList.toggle("current", to === n);
    });
    var cur = this.root.querySelector("g.step.current");
    if (cur && propagate) {
      var box = this.root.querySelector(".diagram");
      var r = cur.getBoundingClientRect(), b = box.getBoundingClientRect();
      if (r.top < b.top || r.bottom > b.bottom) box.scrollTop += r.top - b.top - b.height / 3;
    }
    renderStep(this.root.querySelector(".stepinfo"), n ? this.data.steps[n - 1] : null, n,
               total);
    var prev = n > 0 ? this.state(n - 1) : null;
    renderWorld(this.root.querySelector(".world"), this.state(n), prev);
    var group = this.root.getAttribute("data-group");
    if (propagate && group) {
      var self = this;
      viewers.forEach(function (v) {
        if (v !== self && v.root.getAttribute("data-group") === group) v.go(n, false);
      });
    }
  };

  document.querySelectorAll(".viewer").forEach(function (root) {
    var v = new Viewer(root);
    var details = root.closest("details");
    if (!details || details.open) v.go(0, false);
    if (details) details.addEventListener("toggle", function () {
      if (details.open && !v.data) v.go(0, false);
    });
  });
  // a link to a finding opens it at once, with its viewer loaded (the toggle and hashchange
  // events come later, so the click does the work itself)
  function openId(id) {
    var el = id ? document.getElementById(id) : null;
    if (!el || el.tagName !== "DETAILS") return;
    if (!el.open) el.open = true;
    viewers.forEach(function (v) {
      if (!v.data && el.contains(v.root)) v.go(0, false);
    });
    el.scrollIntoView();
  }
  function openTarget() { if (location.hash) openId(location.hash.slice(1)); }
  document.addEventListener("click", function (ev) {
    var a = ev.target.closest ? ev.target.closest('a[href^="#"]') : null;
    if (a) openId(a.getAttribute("href").slice(1));
  });
  window.addEventListener("hashchange", openTarget);
  openTarget();
  window.novaResizeViewers = viewers;
})();
