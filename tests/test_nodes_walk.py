"""nodes.walk is ast.walk's replacement on the transform's hot paths: same nodes, same order."""
import ast
import inspect

import gast

from s2sad import nodes as N
from s2sad.reverse import realize


def test_walk_visits_ast_walks_nodes_in_its_order():
    for tree in (gast.parse(inspect.getsource(realize)), ast.parse(inspect.getsource(N))):
        assert [id(n) for n in N.walk(tree)] == [id(n) for n in ast.walk(tree)]


def _names_seen_while_replacing(walk):
    tree = gast.parse("a = b + c\nd = e")
    seen = []
    for n in walk(tree):
        if isinstance(n, gast.Name):
            seen.append(n.id)
        if isinstance(n, gast.Assign):
            n.value = N.name("f")          # children are queued when their parent is yielded, as ast.walk's
    return seen


def test_walk_queues_children_when_it_yields_their_parent():
    assert _names_seen_while_replacing(N.walk) == _names_seen_while_replacing(ast.walk) == ["a", "d", "e", "b", "c"]
