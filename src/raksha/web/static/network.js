// Raksha console: the network view. Fetches one person's neighbourhood or one community
// as JSON (the URL is the container's data-graph-url) and draws it with the vendored
// Cytoscape.js. No inline script or style: the Content-Security-Policy allows neither.
(function () {
  "use strict";

  var COLORS = {
    person: "#b3261e",
    account: "#0b4f8a",
    group: "#116329",
    item: "#6f42c1",
    device: "#9a6700",
    referral: "#57606a",
    source: "#8c959f"
  };
  var SHAPES = {
    person: "ellipse",
    account: "round-rectangle",
    group: "hexagon",
    item: "diamond",
    device: "rectangle",
    referral: "tag",
    source: "triangle"
  };

  function text(id, value) {
    var el = document.getElementById(id);
    if (el) {
      el.textContent = value;
    }
  }

  function shortLabel(node) {
    var label = String(node.label || node.node_id);
    if (node.kind === "item") {
      return label.slice(0, 12) + "…";
    }
    return label.length > 28 ? label.slice(0, 27) + "…" : label;
  }

  function item(list, words) {
    var li = document.createElement("li");
    li.textContent = words;
    list.appendChild(li);
    return li;
  }

  function showDetails(data) {
    var box = document.getElementById("network-details");
    if (!box) {
      return;
    }
    box.replaceChildren();
    var heading = document.createElement("h2");
    heading.textContent = data.kind + " " + data.node_id;
    box.appendChild(heading);
    var list = document.createElement("ul");
    item(list, data.full);
    Object.keys(data.attrs || {}).sort().forEach(function (key) {
      item(list, key.replace(/_/g, " ") + ": " + data.attrs[key]);
    });
    item(list, data.degree + " links in this view");
    box.appendChild(list);
    if (data.kind === "person") {
      var link = document.createElement("a");
      link.href = "/people/" + encodeURIComponent(data.node_id);
      link.textContent = "Open person #" + data.node_id;
      box.appendChild(link);
      box.appendChild(document.createTextNode(" · "));
      var around = document.createElement("a");
      around.href = "/network?person=" + encodeURIComponent(data.node_id);
      around.textContent = "their neighbourhood";
      box.appendChild(around);
    }
  }

  function nodeList(nodes) {
    // Every node in words, for whoever cannot use the drawing.
    var side = document.querySelector(".network-side");
    if (!side) {
      return;
    }
    var details = document.createElement("details");
    details.id = "network-list";
    var summary = document.createElement("summary");
    summary.textContent = "Every node in this view (" + nodes.length + ")";
    details.appendChild(summary);
    var list = document.createElement("ul");
    nodes.forEach(function (n) {
      item(list, n.kind + " " + n.node_id + ": " + n.label);
    });
    details.appendChild(list);
    side.appendChild(details);
  }

  function draw(box, data) {
    var elements = [];
    data.nodes.forEach(function (n) {
      elements.push({
        group: "nodes",
        data: {
          id: n.id,
          kind: n.kind,
          node_id: n.node_id,
          label: shortLabel(n),
          full: n.label,
          attrs: n.attrs,
          focus: n.id === data.focus ? 1 : 0,
          color: COLORS[n.kind] || "#57606a",
          shape: SHAPES[n.kind] || "ellipse"
        }
      });
    });
    data.edges.forEach(function (e) {
      elements.push({
        group: "edges",
        data: { id: e.id, source: e.source, target: e.target, kind: e.kind, count: e.count }
      });
    });
    var cy = window.cytoscape({
      container: box,
      elements: elements,
      minZoom: 0.1,
      maxZoom: 4,
      style: [
        {
          selector: "node",
          style: {
            "background-color": "data(color)",
            shape: "data(shape)",
            label: "data(label)",
            color: "#1b1f24",
            "font-size": 9,
            "text-valign": "bottom",
            "text-margin-y": 3,
            width: 18,
            height: 18
          }
        },
        { selector: "node[focus = 1]", style: { width: 34, height: 34, "font-weight": "bold", "border-width": 3, "border-color": "#f2a900" } },
        { selector: "node:selected", style: { "border-width": 3, "border-color": "#f2a900" } },
        { selector: "edge", style: { width: 1, "line-color": "#b6bec8", "curve-style": "haystack", opacity: 0.8 } },
        { selector: "edge[kind = 'posted_item']", style: { "line-color": "#6f42c1" } },
        { selector: "edge[kind = 'has_account']", style: { width: 2, "line-color": "#b3261e" } },
        { selector: "edge[kind = 'owns_device'], edge[kind = 'found_on_device']", style: { "line-color": "#9a6700" } }
      ],
      layout: { name: "grid" }
    });
    var focus = data.focus ? cy.getElementById(data.focus) : null;
    var layout = focus && focus.length
      ? { name: "breadthfirst", roots: focus, circle: true, spacingFactor: 0.9, animate: false }
      : { name: "cose", animate: false, randomize: false, nodeRepulsion: 6000, numIter: 600 };
    cy.layout(layout).run();
    cy.on("tap", "node", function (event) {
      var data = event.target.data();
      showDetails({
        kind: data.kind,
        node_id: data.node_id,
        full: data.full,
        attrs: data.attrs,
        degree: event.target.degree(false)
      });
    });
    text("network-title", data.title);
    var note = data.nodes.length + " nodes, " + data.edges.length + " links.";
    if (data.truncated) {
      note += " " + (data.total_nodes - data.nodes.length) + " more nodes were left off: a view holds at most " + data.limit + ".";
    }
    text("network-note", note);
    nodeList(data.nodes);
    box.setAttribute("data-nodes", String(data.nodes.length));
    box.setAttribute("data-edges", String(data.edges.length));
    box.setAttribute("data-truncated", data.truncated ? "yes" : "no");
    box.setAttribute("data-state", "drawn");
    window.rakshaNetwork = cy;
  }

  function fail(box, message) {
    box.setAttribute("data-state", "failed");
    text("network-title", "The graph could not be loaded: " + message);
  }

  function start() {
    var box = document.getElementById("network");
    if (!box) {
      return;
    }
    if (typeof window.cytoscape !== "function") {
      fail(box, "the graph library did not load");
      return;
    }
    fetch(box.getAttribute("data-graph-url"), {
      credentials: "same-origin",
      headers: { Accept: "application/json" }
    })
      .then(function (response) {
        return response.json().then(function (body) {
          if (!response.ok) {
            throw new Error(body.error || "the server answered " + response.status);
          }
          return body;
        });
      })
      .then(function (data) {
        draw(box, data);
      })
      .catch(function (error) {
        fail(box, error.message);
      });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
