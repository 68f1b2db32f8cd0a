#!/usr/bin/env python3
#
# scripts/call-graph.py -- which module of src/ calls which, and whether any
# two of them call each other, directly or through others (a circle).
#
#   python3 scripts/call-graph.py [SRC_DIR]
#
# A module is one src/NAME.c.  An edge A -> B means A.c calls a function
# migguard_* that B.c defines (comments and string literals ignored;
# static inline functions of headers are not modules' calls).  Prints each
# module's callees, the modules from the bottom layer up, and every circle
# with the calls that close it; exits 1 when there is a circle.
# The layering is written at the top of src/migguard.c and src/judge.c.

import glob
import os
import re
import sys

src = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "src")
files = sorted(glob.glob(os.path.join(src, "*.c")))
definer = {}
for path in files:
    module = os.path.basename(path)[:-2]
    for name in re.findall(r"^(migguard_\w+)\(", open(path).read(), re.M):
        definer.setdefault(name, module)

edges = {}
calls = {}
for path in files:
    module = os.path.basename(path)[:-2]
    text = open(path).read()
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    text = re.sub(r'"(\\.|[^"\\])*"', '""', text)
    edges.setdefault(module, set())
    for name in set(re.findall(r"\b(migguard_\w+)\(", text)):
        callee = definer.get(name)
        if callee and callee != module:
            edges[module].add(callee)
            calls.setdefault((module, callee), set()).add(name)

# Tarjan's strongly connected components: a component of two or more
# modules is a circle.
index, low, stack, on_stack, components = {}, {}, [], set(), []
counter = [0]


def visit(v):
    index[v] = low[v] = counter[0]
    counter[0] += 1
    stack.append(v)
    on_stack.add(v)
    for w in sorted(edges.get(v, ())):
        if w not in index:
            visit(w)
            low[v] = min(low[v], low[w])
        elif w in on_stack:
            low[v] = min(low[v], index[w])
    if low[v] == index[v]:
        component = []
        while True:
            w = stack.pop()
            on_stack.discard(w)
            component.append(w)
            if w == v:
                break
        components.append(component)


for v in sorted(edges):
    if v not in index:
        visit(v)

for module in sorted(edges):
    print(f"{module} -> {', '.join(sorted(edges[module])) or '(nothing)'}")
circles = [c for c in components if len(c) > 1]
if circles:
    for circle in circles:
        print("circle: " + " ".join(sorted(circle)))
        for a in sorted(circle):
            for b in sorted(circle):
                if (a, b) in calls:
                    print(f"  {a} -> {b}: {', '.join(sorted(calls[(a, b)]))}")
    sys.exit(1)
# components come out callees first: the bottom layer first
print("layers, bottom up: " + " < ".join(c[0] for c in components))
print("no circles")
