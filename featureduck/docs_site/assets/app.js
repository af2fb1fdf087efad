/* featureduck docs: one page over window.FDUCK_CATALOG (written by `fduck docs generate`).
   Routes: #!/ (overview), #!/node/<id>, #!/graph?select=<selector>&focus=<id>. */
(function () {
  "use strict";
  const catalog = window.FDUCK_CATALOG;
  const main = document.getElementById("main");
  if (!catalog) {
    main.innerHTML = '<p class="error">catalog.js is missing: run fduck docs generate.</p>';
    return;
  }
  if (window.cytoscapeDagre) cytoscape.use(window.cytoscapeDagre);

  const nodes = catalog.nodes;
  const GROUPS = [
    ["model", "Models"], ["snapshot", "Snapshots"], ["seed", "Seeds"], ["source", "Sources"], ["feature_view", "Feature views"],
    ["entity", "Entities"], ["serving", "Serving"], ["exposure", "Exposures"], ["test", "Data tests"], ["unit_test", "Unit tests"],
    ["macro", "Macros"],
  ];
  const GRAPH_TYPES = new Set(["model", "snapshot", "seed", "source", "feature_view", "entity", "serving", "exposure"]);
  const COLORS = {
    model: "#1d5fbf", snapshot: "#6b3fa0", seed: "#2f8f46", source: "#0b7285", feature_view: "#c77c02",
    entity: "#8d6e63", serving: "#c62828", exposure: "#d6336c",
  };
  const parents = {}, children = {};
  for (const [parent, child] of catalog.edges) {
    (children[parent] = children[parent] || []).push(child);
    (parents[child] = parents[child] || []).push(parent);
  }
  // column lineage one hop down, the reverse of each column's `upstream`
  const downstream = {};
  for (const node of Object.values(nodes)) {
    for (const column of node.columns || []) {
      for (const [uid, name] of column.upstream) {
        const key = uid + "\u0000" + name.toLowerCase();
        (downstream[key] = downstream[key] || []).push([node.unique_id, column.name]);
      }
    }
  }

  const esc = (value) => String(value == null ? "" : value).replace(/[&<>"']/g,
    (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
  const link = (uid, text) => nodes[uid]
    ? `<a href="#!/node/${encodeURIComponent(uid)}">${esc(text || nodes[uid].name)}</a>`
    : `<span class="muted">${esc(text || uid)}</span>`;
  const badge = (text, kind) => `<span class="badge ${kind ? "status-" + esc(kind) : ""}">${esc(text)}</span>`;
  const typeBadge = (node) => `<span class="badge" style="background:${COLORS[node.resource_type] || "#616e7c"}">${
    esc(node.resource_type.replace("_", " "))}</span>`;

  function paragraphs(text) {
    if (!text) return '<p class="muted">No description.</p>';
    return text.split(/\n\s*\n/).map((p) => "<p>" + esc(p).replace(/`([^`]+)`/g, "<code>$1</code>") + "</p>").join("");
  }

  // --- sidebar ------------------------------------------------------------------------------
  function sidebar() {
    const html = [];
    for (const [kind, title] of GROUPS) {
      const members = Object.values(nodes).filter((n) => n.resource_type === kind).sort((a, b) => a.name.localeCompare(b.name));
      if (!members.length) continue;
      html.push(`<details ${["model", "feature_view", "source"].includes(kind) ? "open" : ""} data-kind="${kind}">` +
        `<summary>${esc(title)} <span class="muted">${members.length}</span></summary><ul>` +
        members.map((n) => `<li>${link(n.unique_id)}</li>`).join("") + "</ul></details>");
    }
    document.getElementById("sidebar").innerHTML = html.join("");
  }

  // --- search -------------------------------------------------------------------------------
  const searchIndex = Object.values(nodes).map((node) => ({
    node,
    fields: [["name", node.name], ["id", node.unique_id], ["description", node.description],
      ...(node.columns || []).flatMap((c) => [["column", c.name], ["column description", c.description]]),
      ...(node.tags || []).map((t) => ["tag", t])].filter(([, v]) => v),
  }));

  function search(query) {
    const terms = query.toLowerCase().split(/\s+/).filter(Boolean);
    if (!terms.length) return [];
    const found = [];
    for (const entry of searchIndex) {
      const hay = entry.fields.map(([, v]) => String(v).toLowerCase());
      if (!terms.every((t) => hay.some((h) => h.includes(t)))) continue;
      const why = entry.fields.find(([, v]) => terms.some((t) => String(v).toLowerCase().includes(t)));
      const rank = entry.node.name.toLowerCase() === terms.join(" ") ? 0 : why[0] === "name" ? 1 : 2;
      found.push({ node: entry.node, why, rank });
    }
    found.sort((a, b) => a.rank - b.rank || a.node.name.localeCompare(b.node.name));
    return found.slice(0, 50);
  }

  const searchInput = document.getElementById("search");
  const resultsList = document.getElementById("search-results");
  searchInput.addEventListener("input", () => {
    const found = search(searchInput.value);
    resultsList.hidden = !searchInput.value.trim();
    resultsList.innerHTML = found.length ? found.map(({ node, why }, i) =>
      `<li><a class="${i === 0 ? "active" : ""}" href="#!/node/${encodeURIComponent(node.unique_id)}">${typeBadge(node)}${
        esc(node.name)} <span class="why">${why[0] === "name" ? "" : esc(why[0] + ": " + String(why[1]).slice(0, 80))}</span></a></li>`
    ).join("") : '<li class="muted" style="padding:6px 10px">Nothing matches.</li>';
  });
  searchInput.addEventListener("keydown", (event) => {
    if (event.key === "Enter") {
      const first = resultsList.querySelector("a");
      if (first) location.hash = first.getAttribute("href");
    } else if (event.key === "Escape") {
      resultsList.hidden = true;
    }
  });
  resultsList.addEventListener("click", () => { resultsList.hidden = true; searchInput.value = ""; });

  // --- selectors, as `fduck ls --select` reads them ----------------------------------------
  function walk(start, edges, depth) {
    const seen = new Set();
    let frontier = [start];
    for (let level = 0; frontier.length && (depth === null || level < depth); level++) {
      const next = [];
      for (const uid of frontier) {
        for (const other of edges[uid] || []) if (!seen.has(other)) { seen.add(other); next.push(other); }
      }
      frontier = next;
    }
    return seen;
  }

  function glob(pattern, text) {
    const rx = new RegExp("^" + pattern.split("*").map((p) => p.replace(/[.?+^$()[\]{}|\\]/g, "\\$&")).join(".*") + "$", "i");
    return rx.test(text);
  }

  function matches(method, value, node) {
    switch (method) {
      case "tag": return (node.tags || []).some((t) => glob(value, t));
      case "resource_type": return node.resource_type === value;
      case "package": return node.package_name === value;
      case "path": return (node.original_file_path || "").startsWith(value.replace(/^\.\//, ""));
      case "source": return node.resource_type === "source" && (glob(value, node.name) || glob(value, node.name.split(".")[0]));
      case "exposure": return node.resource_type === "exposure" && glob(value, node.name);
      default: return glob(value, node.name) || node.unique_id === value;
    }
  }

  function select(selector) {
    const chosen = new Set();
    for (const token of selector.trim().split(/\s+/).filter(Boolean)) {
      const m = /^(\d*\+)?(.*?)(\+\d*)?$/.exec(token);
      const [up, body, down] = [m[1], m[2], m[3]];
      const colon = body.indexOf(":");
      const method = colon > 0 ? body.slice(0, colon) : "name";
      const value = colon > 0 ? body.slice(colon + 1) : body;
      for (const node of Object.values(nodes)) {
        if (!matches(method, value, node)) continue;
        chosen.add(node.unique_id);
        if (up) walk(node.unique_id, parents, up.length > 1 ? parseInt(up, 10) : null).forEach((u) => chosen.add(u));
        if (down) walk(node.unique_id, children, down.length > 1 ? parseInt(down.slice(1), 10) : null).forEach((u) => chosen.add(u));
      }
    }
    return chosen;
  }

  // --- graph --------------------------------------------------------------------------------
  let cy = null;

  function graphPage(params) {
    main.className = "graph";
    const selector = params.get("select") || "";
    main.innerHTML = `<div id="toolbar">
        <form id="select-form"><input id="selector" value="${esc(selector)}" placeholder="--select: +model, tag:x, resource_type:seed">
        <button type="submit">Filter</button></form>
        <button id="show-all" type="button">Show all</button><button id="fit" type="button">Fit</button>
        <button id="clear-focus" type="button">Clear focus</button>
        <span class="legend">${Object.entries(COLORS).map(([k, c]) => `<span><i style="background:${c}"></i>${esc(k.replace("_", " "))}</span>`).join("")}</span>
      </div>
      <div id="graph-area"><div id="cy"></div><div id="node-panel"><p class="muted">Click a node to focus on it with its parents and children.</p></div></div>`;
    const shown = selector ? select(selector) : null;
    const inGraph = (uid) => nodes[uid] && GRAPH_TYPES.has(nodes[uid].resource_type) && (!shown || shown.has(uid));
    const elements = Object.values(nodes).filter((n) => inGraph(n.unique_id)).map((n) => ({
      data: { id: n.unique_id, label: n.name, kind: n.resource_type, color: COLORS[n.resource_type] || "#616e7c" },
    }));
    for (const [parent, child] of catalog.edges) {
      if (inGraph(parent) && inGraph(child)) elements.push({ data: { id: parent + "->" + child, source: parent, target: child } });
    }
    cy = cytoscape({
      container: document.getElementById("cy"),
      elements,
      wheelSensitivity: 0.3,
      style: [
        { selector: "node", style: { label: "data(label)", "background-color": "data(color)", shape: "round-rectangle",
          width: "label", height: 26, padding: "10px", color: "#fff", "font-size": 12, "text-valign": "center", "text-halign": "center" } },
        { selector: "edge", style: { width: 1.5, "line-color": "#9aa5b1", "target-arrow-color": "#9aa5b1", "target-arrow-shape": "triangle",
          "curve-style": "bezier", "arrow-scale": 0.9 } },
        { selector: ".faded", style: { opacity: 0.15 } },
        { selector: ".focused", style: { "border-width": 3, "border-color": "#111" } },
      ],
      layout: { name: window.cytoscapeDagre ? "dagre" : "breadthfirst", rankDir: "LR", nodeSep: 18, rankSep: 70, directed: true },
    });
    window.fduck.cy = cy;
    if (!selector && elements.length > 800) {  // a whole large project is a hairball: say how to narrow it
      document.getElementById("node-panel").innerHTML = `<p>${cy.nodes().length} nodes: click one to focus on it, or
        filter with a selector (<code>+name</code>, <code>name+2</code>, <code>tag:x</code>) to draw only part.</p>`;
    }
    cy.on("tap", "node", (event) => focus(event.target.id()));
    cy.on("tap", (event) => { if (event.target === cy) clearFocus(); });
    cy.on("dbltap", "node", (event) => { location.hash = "#!/node/" + encodeURIComponent(event.target.id()); });
    document.getElementById("select-form").addEventListener("submit", (event) => {
      event.preventDefault();
      location.hash = "#!/graph?select=" + encodeURIComponent(document.getElementById("selector").value);
    });
    document.getElementById("show-all").onclick = () => { location.hash = "#!/graph"; };
    document.getElementById("fit").onclick = () => cy.fit(undefined, 30);
    document.getElementById("clear-focus").onclick = clearFocus;
    if (params.get("focus") && cy.getElementById(params.get("focus")).length) focus(params.get("focus"));
  }

  function focus(uid) {
    const node = cy.getElementById(uid);
    const family = node.union(node.predecessors()).union(node.successors());
    cy.elements().addClass("faded").removeClass("focused");
    family.removeClass("faded");
    node.addClass("focused");
    cy.animate({ fit: { eles: family, padding: 40 } }, { duration: 250 });
    const data = nodes[uid];
    document.getElementById("node-panel").innerHTML = `<h2>${typeBadge(data)}${esc(data.name)}</h2>
      <div class="description">${paragraphs(data.description)}</div>
      <p><b>Parents</b>: ${(parents[uid] || []).map((u) => link(u)).join(", ") || '<span class="muted">none</span>'}</p>
      <p><b>Children</b>: ${(children[uid] || []).map((u) => link(u)).join(", ") || '<span class="muted">none</span>'}</p>
      <p><a href="#!/node/${encodeURIComponent(uid)}">Open ${esc(data.name)}</a></p>`;
    window.fduck.focused = uid;
  }

  function clearFocus() {
    if (!cy) return;
    cy.elements().removeClass("faded").removeClass("focused");
    window.fduck.focused = null;
  }

  // --- node pages ---------------------------------------------------------------------------
  function facts(node) {
    const rows = [];
    const add = (name, value) => { if (value !== undefined && value !== null && value !== "") rows.push([name, value]); };
    add("Id", esc(node.unique_id));
    add("Materialized", node.materialized && esc(node.materialized));
    add("Relation", node.relation && `<code>${esc(node.relation)}</code>`);
    add("Package", esc(node.package_name));
    add("File", node.original_file_path && `<code>${esc(node.original_file_path)}</code>`);
    add("Tags", (node.tags || []).map((t) => badge(t)).join(""));
    add("Owner", node.owner && esc(node.owner));
    if (node.meta && Object.keys(node.meta).length) add("Meta", `<code>${esc(JSON.stringify(node.meta))}</code>`);
    if (node.resource_type !== "test" && node.resource_type !== "unit_test" && "last_build" in node) {
      const built = node.last_build;
      add("Last build", built ? `${esc(built.built_at)} UTC` + (built.rows != null ? `, ${esc(built.rows)} rows` : "")
        : '<span class="muted">not built on this target</span>');
    }
    if (node.freshness) {
      const f = node.freshness;
      add("Freshness", badge(f.status, f.status) + esc(f.newest ? ` newest ${f.newest}` : "") + esc(f.message ? ` ${f.message}` : ""));
    }
    if (node.source) add("Source", `<code>${esc(JSON.stringify(node.source))}</code>`);
    if (node.feature_view) {
      const v = node.feature_view;
      add("Entity", link(`entity.${node.package_name}.${v.entity}`, v.entity));
      add("Timestamp field", `<code>${esc(v.timestamp_field)}</code>`);
      add("TTL", v.ttl_seconds != null ? esc(v.ttl_seconds + " s") : "none");
      add("Online", v.online ? "yes: served by fduck serve" : "no");
    }
    if (node.join_keys) add("Join keys", node.join_keys.map((k) => `<code>${esc(k)}</code>`).join(", "));
    if (node.exposure) add("Exposure", `<code>${esc(JSON.stringify(node.exposure))}</code>`);
    if (node.test_type) {
      add("Test", esc(node.test_type) + (node.column ? ` on column <code>${esc(node.column)}</code>` : ""));
      add("Tests", node.attached_to && link(node.attached_to));
      add("Severity", esc(node.severity));
      const r = node.last_result;
      add("Last result", r ? badge(r.status, r.status) + esc(` ${r.completed_at} UTC`) + (r.message ? " " + esc(r.message) : "")
        : '<span class="muted">not run on this target</span>');
    }
    if (node.macro_kind) add("Arguments", node.arguments.map((a) => `<code>${esc(a)}</code>`).join(", ") || "none");
    return `<table class="facts">${rows.map(([k, v]) => `<tr><th>${esc(k)}</th><td>${v}</td></tr>`).join("")}</table>`;
  }

  function testBadges(uids) {
    return uids.map((uid) => {
      const test = nodes[uid];
      const status = test && test.last_result ? test.last_result.status : null;
      return `<a href="#!/node/${encodeURIComponent(uid)}">${badge(test ? test.test_type : uid, status)}</a>`;
    }).join("");
  }

  function columnsTable(node) {
    if (!node.columns || !node.columns.length) return "";
    return `<h2>Columns</h2><table class="columns"><tr><th>Column</th><th>Type</th><th>Description</th><th>Tests</th><th>Derived from</th></tr>${
      node.columns.map((c) => `<tr data-column="${esc(c.name)}"><td><span class="column-name" data-column="${esc(c.name)}">${esc(c.name)}</span></td>
        <td>${esc(c.data_type || "")}${c.type_from === "declared" ? ' <span class="muted">(declared)</span>' : ""}</td>
        <td>${esc(c.description)}</td><td>${testBadges(c.tests || [])}</td>
        <td>${c.upstream.map(([u, col]) => link(u, (nodes[u] ? nodes[u].name : u) + "." + col)).join(", ")}</td></tr>`).join("")
    }</table><div id="column-lineage"></div>`;
  }

  function upstreamTree(uid, column, seen) {
    const node = nodes[uid];
    const found = node && (node.columns || []).find((c) => c.name.toLowerCase() === column.toLowerCase());
    const key = uid + "." + column;
    if (!found || !found.upstream.length || seen.has(key)) return "";
    seen.add(key);
    return "<ul>" + found.upstream.map(([u, col]) =>
      `<li>${link(u, (nodes[u] ? nodes[u].name : u) + "." + col)} ${nodes[u] ? typeBadge(nodes[u]) : ""}${upstreamTree(u, col, seen)}</li>`
    ).join("") + "</ul>";
  }

  function downstreamTree(uid, column, seen) {
    const below = downstream[uid + "\u0000" + column.toLowerCase()] || [];
    const key = uid + "." + column;
    if (!below.length || seen.has(key)) return "";
    seen.add(key);
    return "<ul>" + below.map(([u, col]) =>
      `<li>${link(u, nodes[u].name + "." + col)} ${typeBadge(nodes[u])}${downstreamTree(u, col, seen)}</li>`).join("") + "</ul>";
  }

  function showColumnLineage(node, column) {
    const up = upstreamTree(node.unique_id, column, new Set());
    const down = downstreamTree(node.unique_id, column, new Set());
    document.getElementById("column-lineage").innerHTML = `<h2>Column lineage of ${esc(node.name)}.${esc(column)}</h2>
      <div class="lineage-tree"><b>Derived from</b>${up || ' <span class="muted">nothing upstream: a literal, or where lineage starts</span>'}
      <b>Feeds</b>${down || ' <span class="muted">no column downstream</span>'}</div>`;
  }

  function sqlSection(node) {
    const html = [];
    const targets = Object.keys(node.compiled || {});
    if (targets.length) {
      const first = targets.includes(catalog.metadata.target) ? catalog.metadata.target : targets[0];
      html.push(`<h2>Compiled SQL <select id="sql-target">${targets.map((t) =>
        `<option ${t === first ? "selected" : ""}>${esc(t)}</option>`).join("")}</select></h2><pre><code id="compiled-sql">${
        esc(node.compiled[first].sql)}</code></pre>`);
    }
    if (node.raw_sql) html.push(`<h2>Source</h2><pre><code>${esc(node.raw_sql)}</code></pre>`);
    return html.join("");
  }

  function nodePage(uid) {
    main.className = "";
    const node = nodes[uid];
    if (!node) {
      main.innerHTML = `<p class="error">No node ${esc(uid)} in this project.</p>`;
      return;
    }
    const problems = [node.error, node.lineage_error].filter(Boolean).map((e) => `<p class="error">${esc(e)}</p>`).join("");
    const related = (title, list) => list && list.length ? `<h2>${title}</h2><p>${list.map((u) => link(u)).join(", ")}</p>` : "";
    main.innerHTML = `<h1>${typeBadge(node)}${esc(node.name)}</h1>${problems}
      <div class="description">${paragraphs(node.description)}</div>
      ${GRAPH_TYPES.has(node.resource_type) ? `<p><a href="#!/graph?focus=${encodeURIComponent(uid)}">Show in the lineage graph</a></p>` : ""}
      ${facts(node)}${columnsTable(node)}
      ${related("Depends on", node.depends_on)}${related("Used by", node.used_by)}
      ${node.tests && node.tests.length ? `<h2>Tests</h2><p>${testBadges(node.tests)}</p>` : ""}
      ${sqlSection(node)}`;
    main.querySelectorAll(".column-name").forEach((el) => el.addEventListener("click", () => showColumnLineage(node, el.dataset.column)));
    const chooser = document.getElementById("sql-target");
    if (chooser) chooser.onchange = () => { document.getElementById("compiled-sql").textContent = node.compiled[chooser.value].sql; };
  }

  function overview() {
    main.className = "";
    const meta = catalog.metadata;
    const counts = GROUPS.map(([kind, title]) => [title, Object.values(nodes).filter((n) => n.resource_type === kind).length])
      .filter(([, n]) => n);
    main.innerHTML = `<h1>${esc(meta.project_name)}</h1>
      <p class="muted">Generated ${esc(meta.generated_at)} for target <b>${esc(meta.target)}</b> (${esc(meta.dialect)}) by featureduck ${
        esc(meta.featureduck_version)}.</p>
      <div class="cards">${counts.map(([t, n]) => `<div class="card"><b>${n}</b>${esc(t)}</div>`).join("")}</div>
      <p><a href="#!/graph">Open the lineage graph</a> · search above for any name, description or column.</p>`;
  }

  function route() {
    const hash = decodeURIComponent(location.hash.replace(/^#!?/, "")) || "/";
    resultsList.hidden = true;
    if (cy) { cy.destroy(); cy = null; window.fduck.cy = null; }
    if (hash.startsWith("/node/")) nodePage(hash.slice(6));
    else if (hash.startsWith("/graph")) graphPage(new URLSearchParams(location.hash.split("?")[1] || ""));
    else overview();
  }

  window.fduck = { catalog, select, search, cy: null, focused: null };
  document.getElementById("home").textContent = catalog.metadata.project_name + " · featureduck docs";
  sidebar();
  window.addEventListener("hashchange", route);
  route();

  // served by `fduck docs serve`: a new generate reloads the page
  if (location.protocol.startsWith("http")) {
    let seen = null;
    setInterval(() => {
      fetch("version.txt", { cache: "no-store" }).then((r) => r.ok ? r.text() : null).then((version) => {
        if (version === null) return;
        if (seen !== null && version !== seen) location.reload();
        seen = version;
      }).catch(() => {});
    }, 2000);
  }
})();
