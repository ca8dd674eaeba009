"""Evaluator for the python_eval task type: one expression in, one JSON line out.

Safety comes from an allow-list over the parsed syntax tree (constructs, names, builtins
and math functions); nothing outside it is ever compiled. The worker runs this file in a
fresh `python -I -S -B` process under CPU, memory, file and wall-clock limits.
Standard library only; Python 3.9 or newer.

Protocol: the expression arrives as UTF-8 on stdin. One line is written to stdout:
  {"ok": true, "value": V}  or  {"ok": false, "kind": K, "error": "message"}
where K is one of "input", "syntax", "refused", "error", "memory", "result". In V,
JSON null/true/false/integers/strings/arrays stand for themselves (a number with '.'
or 'e' is a float) and every JSON object is a tag: {"$bytes": base64},
{"$float": "nan"|"inf"|"-inf"} or {"$dict": [[key, value], ...]}.
"""

from __future__ import annotations

import ast
import base64
import json
import math
import sys
import types
from collections.abc import Callable, Iterator
from typing import Any

MAX_SOURCE_BYTES = 100_000
MAX_SYNTAX_DEPTH = 100
MAX_RESULT_DEPTH = 40
FACTORIAL_LIMIT = 100_000
INT_MIN = -(2**63)
INT_MAX = 2**64 - 1
DEFAULT_MAX_OUTPUT = 1 << 20


class Refused(Exception):
    """The expression uses something outside the allow-list."""


class ResultError(Exception):
    """The value cannot be returned as plain data."""


def _bounded_factorial(n: int) -> int:
    if isinstance(n, int) and n > FACTORIAL_LIMIT:
        raise ValueError(f"factorial() argument larger than {FACTORIAL_LIMIT}")
    return math.factorial(n)


def _bounded_perm(n: int, k: int | None = None) -> int:
    if k is None and isinstance(n, int) and n > FACTORIAL_LIMIT:
        raise ValueError(f"perm() with one argument larger than {FACTORIAL_LIMIT}")
    return math.perm(n, k)


ANY_KEYWORD = frozenset({"*"})
NO_KEYWORDS: frozenset[str] = frozenset()

# Builtins that may be called, with the keyword arguments each accepts. None of them
# takes a function argument, so no user-chosen callable is ever invoked.
BUILTINS: dict[str, tuple[Callable[..., Any], frozenset[str]]] = {
    "abs": (abs, NO_KEYWORDS),
    "all": (all, NO_KEYWORDS),
    "any": (any, NO_KEYWORDS),
    "bin": (bin, NO_KEYWORDS),
    "bool": (bool, NO_KEYWORDS),
    "chr": (chr, NO_KEYWORDS),
    "dict": (dict, ANY_KEYWORD),
    "divmod": (divmod, NO_KEYWORDS),
    "enumerate": (enumerate, frozenset({"start"})),
    "float": (float, NO_KEYWORDS),
    "hex": (hex, NO_KEYWORDS),
    "int": (int, frozenset({"base"})),
    "len": (len, NO_KEYWORDS),
    "list": (list, NO_KEYWORDS),
    "max": (max, frozenset({"default"})),
    "min": (min, frozenset({"default"})),
    "oct": (oct, NO_KEYWORDS),
    "ord": (ord, NO_KEYWORDS),
    "pow": (pow, frozenset({"mod"})),
    "range": (range, NO_KEYWORDS),
    "reversed": (reversed, NO_KEYWORDS),
    "round": (round, frozenset({"ndigits"})),
    "set": (set, NO_KEYWORDS),
    "sorted": (sorted, frozenset({"reverse"})),
    "str": (str, NO_KEYWORDS),
    "sum": (sum, frozenset({"start"})),
    "tuple": (tuple, NO_KEYWORDS),
    "zip": (zip, frozenset({"strict"})),
}

MATH_FUNCTIONS: dict[str, tuple[Callable[..., Any], frozenset[str]]] = {
    "acos": (math.acos, NO_KEYWORDS),
    "asin": (math.asin, NO_KEYWORDS),
    "atan": (math.atan, NO_KEYWORDS),
    "atan2": (math.atan2, NO_KEYWORDS),
    "ceil": (math.ceil, NO_KEYWORDS),
    "comb": (math.comb, NO_KEYWORDS),
    "copysign": (math.copysign, NO_KEYWORDS),
    "cos": (math.cos, NO_KEYWORDS),
    "degrees": (math.degrees, NO_KEYWORDS),
    "exp": (math.exp, NO_KEYWORDS),
    "fabs": (math.fabs, NO_KEYWORDS),
    "factorial": (_bounded_factorial, NO_KEYWORDS),
    "floor": (math.floor, NO_KEYWORDS),
    "fmod": (math.fmod, NO_KEYWORDS),
    "fsum": (math.fsum, NO_KEYWORDS),
    "gcd": (math.gcd, NO_KEYWORDS),
    "hypot": (math.hypot, NO_KEYWORDS),
    "isfinite": (math.isfinite, NO_KEYWORDS),
    "isinf": (math.isinf, NO_KEYWORDS),
    "isnan": (math.isnan, NO_KEYWORDS),
    "isqrt": (math.isqrt, NO_KEYWORDS),
    "lcm": (math.lcm, NO_KEYWORDS),
    "log": (math.log, NO_KEYWORDS),
    "log10": (math.log10, NO_KEYWORDS),
    "log2": (math.log2, NO_KEYWORDS),
    "perm": (_bounded_perm, NO_KEYWORDS),
    "prod": (math.prod, frozenset({"start"})),
    "radians": (math.radians, NO_KEYWORDS),
    "sin": (math.sin, NO_KEYWORDS),
    "sqrt": (math.sqrt, NO_KEYWORDS),
    "tan": (math.tan, NO_KEYWORDS),
    "trunc": (math.trunc, NO_KEYWORDS),
}

MATH_CONSTANTS: dict[str, float] = {
    "e": math.e,
    "inf": math.inf,
    "nan": math.nan,
    "pi": math.pi,
    "tau": math.tau,
}

CONSTANT_TYPES = (type(None), bool, int, float, str, bytes)

BIN_OPS = (
    ast.Add, ast.Sub, ast.Mult, ast.Div, ast.FloorDiv, ast.Mod, ast.Pow,
    ast.LShift, ast.RShift, ast.BitOr, ast.BitXor, ast.BitAnd,
)  # fmt: skip
UNARY_OPS = (ast.UAdd, ast.USub, ast.Not, ast.Invert)
BOOL_OPS = (ast.And, ast.Or)
COMPARE_OPS = (
    ast.Eq, ast.NotEq, ast.Lt, ast.LtE, ast.Gt, ast.GtE,
    ast.Is, ast.IsNot, ast.In, ast.NotIn,
)  # fmt: skip

CONSTRUCT_NAMES: dict[type[ast.AST], str] = {
    ast.Attribute: "attribute access",
    ast.Await: "await",
    ast.FormattedValue: "f-string",
    ast.JoinedStr: "f-string",
    ast.Lambda: "lambda",
    ast.MatMult: "the @ operator",
    ast.NamedExpr: "assignment expression (:=)",
    ast.Starred: "starred expression (*x)",
    ast.Yield: "yield",
    ast.YieldFrom: "yield from",
}


def construct_name(node: ast.AST) -> str:
    return CONSTRUCT_NAMES.get(type(node), f"syntax '{type(node).__name__}'")


class Checker:
    """Walks the tree; raises Refused at the first construct outside the allow-list."""

    def __init__(self) -> None:
        self.scopes: list[set[str]] = []  # names bound by the enclosing comprehensions
        self.dispatch: dict[type[ast.AST], Callable[[Any, int], None]] = {
            ast.Expression: self.expression,
            ast.Constant: self.constant,
            ast.Name: self.name,
            ast.Attribute: self.attribute,
            ast.Call: self.call,
            ast.BinOp: self.bin_op,
            ast.UnaryOp: self.unary_op,
            ast.BoolOp: self.bool_op,
            ast.Compare: self.compare,
            ast.IfExp: self.if_exp,
            ast.Tuple: self.sequence,
            ast.List: self.sequence,
            ast.Set: self.sequence,
            ast.Dict: self.dict_display,
            ast.Subscript: self.subscript,
            ast.Slice: self.slice,
            ast.ListComp: self.comprehension,
            ast.SetComp: self.comprehension,
            ast.GeneratorExp: self.comprehension,
            ast.DictComp: self.comprehension,
        }

    def check(self, node: ast.AST, depth: int = 0) -> None:
        if depth > MAX_SYNTAX_DEPTH:
            raise Refused(
                f"expression is nested too deeply (more than {MAX_SYNTAX_DEPTH} levels)"
            )
        visit = self.dispatch.get(type(node))
        if visit is None:
            raise Refused(f"{construct_name(node)} is not allowed")
        visit(node, depth + 1)

    def check_load(self, node: ast.AST) -> None:
        if not isinstance(getattr(node, "ctx", ast.Load()), ast.Load):
            raise Refused("assignment is not allowed")

    def is_bound(self, name: str) -> bool:
        return any(name in scope for scope in self.scopes)

    def expression(self, node: ast.Expression, depth: int) -> None:
        self.check(node.body, depth)

    def constant(self, node: ast.Constant, depth: int) -> None:
        if isinstance(node.value, complex):
            raise Refused("complex numbers are not allowed")
        if type(node.value) not in CONSTANT_TYPES:
            raise Refused(f"the constant {node.value!r} is not allowed")

    def name(self, node: ast.Name, depth: int) -> None:
        self.check_load(node)
        ident = node.id
        if ident.startswith("_"):
            raise Refused(f"the name {ident!r} is not allowed (leading underscore)")
        if self.is_bound(ident):
            return
        if ident in BUILTINS:
            raise Refused(f"{ident}() may only be called, not used as a value")
        if ident == "math":
            raise Refused("'math' may only be used as math.<name>")
        raise Refused(f"the name {ident!r} is not allowed")

    def attribute(self, node: ast.Attribute, depth: int) -> None:
        self.check_load(node)
        if not (isinstance(node.value, ast.Name) and node.value.id == "math"):
            raise Refused(
                f"attribute access (.{node.attr}) is not allowed; only math.<name> is"
            )
        if node.attr in MATH_CONSTANTS:
            return
        if node.attr in MATH_FUNCTIONS:
            raise Refused(f"math.{node.attr}() may only be called, not used as a value")
        raise Refused(f"math.{node.attr} is not allowed")

    def callee(self, func: ast.expr) -> tuple[str, frozenset[str]]:
        """Display name and accepted keywords of an allowed callee, else Refused."""
        if isinstance(func, ast.Name):
            # bind() refuses builtin names as loop variables: they are never shadowed.
            if func.id in BUILTINS:
                return f"{func.id}()", BUILTINS[func.id][1]
            if self.is_bound(func.id):
                raise Refused(f"calling the loop variable {func.id!r} is not allowed")
            self.name(func, 0)  # raises with the reason the name is refused
        if isinstance(func, ast.Attribute):
            value = func.value
            if (
                isinstance(value, ast.Name)
                and value.id == "math"
                and func.attr in MATH_FUNCTIONS
            ):
                return f"math.{func.attr}()", MATH_FUNCTIONS[func.attr][1]
            self.attribute(func, 0)  # raises unless func is a math constant
            raise Refused(f"math.{func.attr} is not callable")
        raise Refused(f"calling the result of {construct_name(func)} is not allowed")

    def call(self, node: ast.Call, depth: int) -> None:
        display, keywords = self.callee(node.func)
        for arg in node.args:
            self.check(arg, depth)
        for kw in node.keywords:
            if kw.arg is None:
                raise Refused("keyword unpacking (**) is not allowed")
            if kw.arg.startswith("_") or (
                kw.arg not in keywords and keywords != ANY_KEYWORD
            ):
                raise Refused(
                    f"keyword argument {kw.arg!r} is not allowed for {display}"
                )
            self.check(kw.value, depth)

    def bin_op(self, node: ast.BinOp, depth: int) -> None:
        if not isinstance(node.op, BIN_OPS):
            raise Refused(f"{construct_name(node.op)} is not allowed")
        self.check(node.left, depth)
        self.check(node.right, depth)

    def unary_op(self, node: ast.UnaryOp, depth: int) -> None:
        if not isinstance(node.op, UNARY_OPS):
            raise Refused(f"{construct_name(node.op)} is not allowed")
        self.check(node.operand, depth)

    def bool_op(self, node: ast.BoolOp, depth: int) -> None:
        if not isinstance(node.op, BOOL_OPS):
            raise Refused(f"{construct_name(node.op)} is not allowed")
        for value in node.values:
            self.check(value, depth)

    def compare(self, node: ast.Compare, depth: int) -> None:
        for op in node.ops:
            if not isinstance(op, COMPARE_OPS):
                raise Refused(f"{construct_name(op)} is not allowed")
        self.check(node.left, depth)
        for comparator in node.comparators:
            self.check(comparator, depth)

    def if_exp(self, node: ast.IfExp, depth: int) -> None:
        self.check(node.test, depth)
        self.check(node.body, depth)
        self.check(node.orelse, depth)

    def sequence(self, node: ast.Tuple | ast.List | ast.Set, depth: int) -> None:
        self.check_load(node)
        for elt in node.elts:
            self.check(elt, depth)

    def dict_display(self, node: ast.Dict, depth: int) -> None:
        for index, key in enumerate(node.keys):
            if key is None:
                raise Refused("dict unpacking (**) is not allowed")
            self.check(key, depth)
            self.check(node.values[index], depth)

    def subscript(self, node: ast.Subscript, depth: int) -> None:
        self.check_load(node)
        self.check(node.value, depth)
        self.check(node.slice, depth)

    def slice(self, node: ast.Slice, depth: int) -> None:
        for part in (node.lower, node.upper, node.step):
            if part is not None:
                self.check(part, depth)

    def bind(self, target: ast.expr, scope: set[str]) -> None:
        if isinstance(target, ast.Name):
            ident = target.id
            if ident.startswith("_"):
                raise Refused(f"the name {ident!r} is not allowed (leading underscore)")
            if ident in BUILTINS or ident == "math":
                raise Refused(f"{ident!r} cannot be used as a loop variable")
            scope.add(ident)
        elif isinstance(target, (ast.Tuple, ast.List)):
            for elt in target.elts:
                self.bind(elt, scope)
        else:
            what = construct_name(target)
            raise Refused(f"comprehension targets must be plain names, not {what}")

    def comprehension(
        self,
        node: ast.ListComp | ast.SetComp | ast.GeneratorExp | ast.DictComp,
        depth: int,
    ) -> None:
        generators = node.generators
        self.check(generators[0].iter, depth)  # evaluated outside the comprehension
        scope: set[str] = set()
        self.scopes.append(scope)
        for index, gen in enumerate(generators):
            if gen.is_async:
                raise Refused("async comprehensions are not allowed")
            if index > 0:
                self.check(gen.iter, depth)
            self.bind(gen.target, scope)
            for cond in gen.ifs:
                self.check(cond, depth)
        if isinstance(node, ast.DictComp):
            self.check(node.key, depth)
            self.check(node.value, depth)
        else:
            self.check(node.elt, depth)
        self.scopes.pop()


def namespace() -> dict[str, Any]:
    """Globals for eval: only the allowed callables (defence in depth)."""
    names: dict[str, Any] = {"__builtins__": {}}
    names.update({ident: entry[0] for ident, entry in BUILTINS.items()})
    math_names: dict[str, Any] = {
        ident: entry[0] for ident, entry in MATH_FUNCTIONS.items()
    }
    math_names.update(MATH_CONSTANTS)
    names["math"] = types.SimpleNamespace(**math_names)
    return names


def encode(value: Any, depth: int = 0) -> Any:
    """Plain JSON-ready data for `value`, tagging what JSON cannot say directly."""
    if depth > MAX_RESULT_DEPTH:
        raise ResultError(
            f"result is nested too deeply (more than {MAX_RESULT_DEPTH} levels)"
        )
    kind = type(value)
    if value is None or kind is bool:
        return value
    if kind is int:
        if not INT_MIN <= value <= INT_MAX:
            raise ResultError("result integer too large (results must fit in 64 bits)")
        return value
    if kind is float:
        if math.isnan(value):
            return {"$float": "nan"}
        if math.isinf(value):
            return {"$float": "inf" if value > 0 else "-inf"}
        return value
    if kind is str:
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as e:
            raise ResultError(
                "result string is not valid Unicode (lone surrogate)"
            ) from e
        return value
    if kind is bytes:
        return {"$bytes": base64.b64encode(value).decode("ascii")}
    if kind is list or kind is tuple:
        return [encode(item, depth + 1) for item in value]
    if kind is set or kind is frozenset:
        try:
            items = sorted(value)
        except TypeError:
            items = list(value)
        return [encode(item, depth + 1) for item in items]
    if kind is dict:
        return {
            "$dict": [
                [encode(k, depth + 1), encode(v, depth + 1)] for k, v in value.items()
            ]
        }
    if kind is range or isinstance(value, Iterator):
        return [encode(item, depth + 1) for item in value]
    raise ResultError(f"a result of type {kind.__name__!r} cannot be returned")


def evaluate(source: str, max_output: int) -> str:
    """The reply line for `source`: the encoded value or the reason there is none."""
    try:
        tree = ast.parse(source, mode="eval")
    except SyntaxError as e:
        where = f" (line {e.lineno}, column {e.offset})" if e.lineno else ""
        return reply_line(failure("syntax", f"syntax error: {e.msg}{where}"))
    except (RecursionError, MemoryError):
        return reply_line(
            failure("refused", "refused: expression is nested too deeply to parse")
        )
    except ValueError as e:  # e.g. NUL bytes in the source
        return reply_line(failure("input", f"invalid expression: {e}"))
    try:
        Checker().check(tree)
    except Refused as e:
        return reply_line(failure("refused", f"refused: {e}"))
    except RecursionError:
        return reply_line(
            failure("refused", "refused: expression is nested too deeply")
        )
    try:
        code = compile(tree, "<expression>", "eval")
        value = eval(code, namespace())  # the tree passed the Checker above
        text = reply_line({"ok": True, "value": encode(value)})
    except MemoryError:
        return reply_line(failure("memory", "memory limit exceeded"))
    except RecursionError:
        return reply_line(
            failure("error", "expression is nested too deeply to evaluate")
        )
    except ResultError as e:
        return reply_line(failure("result", str(e)))
    except Exception as e:  # noqa: BLE001 - any error the expression itself raises
        return reply_line(failure("error", f"{type(e).__name__}: {e}"))
    if len(text) > max_output:
        size = len(text)
        message = (
            f"result is too large ({size} bytes encoded; the limit is {max_output})"
        )
        return reply_line(failure("result", message))
    return text


def reply_line(reply: dict[str, Any]) -> str:
    return json.dumps(reply, ensure_ascii=True, allow_nan=False, separators=(",", ":"))


def failure(kind: str, message: str) -> dict[str, Any]:
    return {"ok": False, "kind": kind, "error": message}


def main(argv: list[str]) -> int:
    max_output = DEFAULT_MAX_OUTPUT
    if len(argv) == 3 and argv[1] == "--max-output":
        max_output = int(argv[2])
    data = sys.stdin.buffer.read(MAX_SOURCE_BYTES + 1)
    try:
        if len(data) > MAX_SOURCE_BYTES:
            message = f"expression is longer than {MAX_SOURCE_BYTES} bytes"
            line = reply_line(failure("input", message))
        else:
            line = evaluate(data.decode("utf-8"), max_output)
    except UnicodeDecodeError:
        line = reply_line(failure("input", "expression is not valid UTF-8"))
    except MemoryError:
        line = reply_line(failure("memory", "memory limit exceeded"))
    sys.stdout.write(line + "\n")
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
