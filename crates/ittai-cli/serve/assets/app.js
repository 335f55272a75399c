// ittai serve — a little plain JavaScript on top of pages that work without it.
// No framework, no network other than this server, no inline script (the
// Content-Security-Policy allows scripts from this server only).
(function () {
  "use strict";

  function fmt(n) {
    return Number(n).toLocaleString("ja-JP");
  }

  // Year selectors marked data-autosubmit send their form when changed.
  document.querySelectorAll("select[data-autosubmit]").forEach(function (s) {
    s.addEventListener("change", function () {
      if (s.form) {
        s.form.submit();
      }
    });
  });

  // ② 抽出条件: the count and the funnel follow the values as they are typed.
  var form = document.getElementById("params-form");
  if (form) {
    var timer = null;
    var seq = 0;
    var rule = form.getAttribute("data-rule");
    var countUrl = form.getAttribute("data-count-url");
    var countEl = document.getElementById("count");
    var popEl = document.getElementById("population");
    var errEl = document.getElementById("rule-error");
    var funnel = document.querySelector("#funnel tbody");
    var toList = document.getElementById("to-list");
    var saveForm = document.getElementById("save-form");
    var cli = document.getElementById("cli");
    var ruleText = document.getElementById("rule-text");

    var params = function () {
      var p = new URLSearchParams(new FormData(form));
      p.delete("csrf");
      return p;
    };
    var clearErrors = function () {
      form.querySelectorAll(".field .error").forEach(function (e) {
        e.hidden = true;
        e.textContent = "";
      });
      errEl.hidden = true;
      errEl.textContent = "";
    };
    var showError = function (data) {
      var target = data.param ? document.getElementById("err-" + data.param) : null;
      if (target) {
        target.textContent = data.error;
        target.hidden = false;
        errEl.textContent = "値を直してください。";
      } else {
        errEl.textContent = data.error || "数えられませんでした。";
      }
      errEl.hidden = false;
      countEl.textContent = "—";
      countEl.setAttribute("data-count", "");
      form.classList.remove("busy");
    };
    var cell = function (tr, text, cls) {
      var td = document.createElement("td");
      if (cls) {
        td.className = cls;
      }
      td.textContent = text;
      tr.appendChild(td);
      return td;
    };
    var render = function (data) {
      countEl.textContent = fmt(data.listed);
      countEl.setAttribute("data-count", String(data.listed));
      popEl.textContent = fmt(data.population);
      popEl.setAttribute("data-population", String(data.population));
      if (ruleText && data.text_ja) {
        ruleText.textContent = data.text_ja;
      }
      var top = Math.max(1, data.funnel.length ? data.funnel[0].persons : 1);
      funnel.textContent = "";
      data.funnel.forEach(function (s) {
        var tr = document.createElement("tr");
        cell(tr, String(s.step));
        cell(tr, s.condition_ja, "l");
        cell(tr, fmt(s.persons)).setAttribute("data-persons", String(s.persons));
        var meter = document.createElement("meter");
        meter.min = 0;
        meter.max = top;
        meter.value = s.persons;
        cell(tr, "").appendChild(meter);
        cell(tr, fmt(s.insufficient_coverage));
        funnel.appendChild(tr);
      });
      toList.href = data.list_url;
      if (cli && data.cli) {
        cli.textContent = data.cli;
      }
      // The save form carries the same year and values.
      saveForm.querySelectorAll("input.param-copy").forEach(function (i) {
        i.remove();
      });
      var add = function (name, value) {
        var i = document.createElement("input");
        i.type = "hidden";
        i.name = name;
        i.value = value;
        i.className = "param-copy";
        saveForm.appendChild(i);
      };
      add("fy", String(data.fy));
      data.changed.forEach(function (kv) {
        add(kv[0], kv[1]);
      });
      // The address keeps the values (reload, back, bookmarks).
      history.replaceState(null, "", "/rules/" + encodeURIComponent(rule) + "?" + data.carry);
      form.classList.remove("busy");
    };
    var update = function () {
      var mine = ++seq;
      form.classList.add("busy");
      fetch(countUrl + "?" + params().toString(), {
        headers: { "Accept": "application/json" },
        credentials: "same-origin"
      })
        .then(function (r) {
          return r.json();
        })
        .then(function (data) {
          if (mine !== seq) {
            return;
          }
          clearErrors();
          if (data.error) {
            showError(data);
          } else {
            render(data);
          }
        })
        .catch(function () {
          if (mine === seq) {
            showError({ error: "数えられませんでした。ittai serve が動いているか確かめてください。" });
          }
        });
    };
    var schedule = function () {
      clearTimeout(timer);
      timer = setTimeout(update, 300);
    };
    form.addEventListener("input", schedule);
    form.addEventListener("change", schedule);
    form.addEventListener("submit", function (e) {
      e.preventDefault();
      clearTimeout(timer);
      update();
    });
  }

  // ③ 対象者一覧: a header sorts the rows on the page when the whole list is on it (with
  // more than one page, the header's link sorts on the server).
  var list = document.getElementById("list");
  if (list && list.getAttribute("data-complete") === "true" && list.tBodies.length) {
    var tbody = list.tBodies[0];
    var heads = list.querySelectorAll("thead th");
    heads.forEach(function (th, idx) {
      var link = th.querySelector("a.sort");
      if (!link) {
        return;
      }
      link.addEventListener("click", function (e) {
        e.preventDefault();
        var numeric = th.getAttribute("data-type") === "num";
        var descending = th.getAttribute("aria-sort") === "ascending";
        heads.forEach(function (o) {
          o.removeAttribute("aria-sort");
        });
        th.setAttribute("aria-sort", descending ? "descending" : "ascending");
        var key = function (tr) {
          var text = tr.cells[idx] ? tr.cells[idx].textContent.trim() : "";
          if (!numeric) {
            return text;
          }
          var v = parseFloat(text.replace(/,/g, ""));
          return isNaN(v) ? -Infinity : v;
        };
        var rows = Array.prototype.slice.call(tbody.rows);
        rows.sort(function (x, y) {
          var kx = key(x);
          var ky = key(y);
          var c;
          if (numeric) {
            c = kx === ky ? 0 : (kx < ky ? -1 : 1);
          } else {
            c = kx.localeCompare(ky, "ja");
          }
          return descending ? -c : c;
        });
        rows.forEach(function (r) {
          tbody.appendChild(r);
        });
      });
    });
  }
})();
