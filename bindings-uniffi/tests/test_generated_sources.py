"""Static checks of the checked-in Kotlin and Swift sources, for what no compiler
here can check: no Swift toolchain exists on Linux CI, so every Swift file is
parsed with tree-sitter-swift, and the generated surface is checked for what
users rely on (Task cancellation on every async call, lowerCamel error cases,
Sendable and Codable records; Kotlin messages and cold flows).

Run by scripts/test-kotlin.sh:
    python -m unittest discover -s bindings-uniffi/tests -v
(needs the `tree-sitter` and `tree-sitter-swift` wheels).
"""

from __future__ import annotations

import re
import sys
import unittest
from pathlib import Path

import tree_sitter
import tree_sitter_swift

ROOT = Path(__file__).resolve().parents[2]
UNIFFI = ROOT / "bindings-uniffi"
SWIFT = UNIFFI / "swift" / "Sources" / "Miosa" / "Miosa.swift"
KOTLIN = UNIFFI / "kotlin" / "src" / "main" / "kotlin" / "ai" / "miosa"

sys.path.insert(0, str(ROOT / "codegen"))
sys.path.insert(0, str(UNIFFI))
from postprocess import swift_records  # noqa: E402
from table import load_table  # noqa: E402
from targets.uniffi import lower_camel  # noqa: E402

PARSER = tree_sitter.Parser(tree_sitter.Language(tree_sitter_swift.language()))

# The grammar does not take an attribute alone inside `#if … #endif` (valid Swift, which
# UniFFI emits before many declarations); it is blanked out, keeping line numbers.
DOC_ATTRIBUTE = re.compile(r"[ \t]*#if swift\(>=5\.8\)\n[ \t]*@_documentation\(visibility: private\)\n[ \t]*#endif\n")
# Nor a closure whose body is the empty tuple, `{ () }` (UniFFI's `writeReturn` of a
# callback method returning nothing); it becomes an empty closure of the same length.
VOID_CLOSURE = re.compile(r"= \{ \(\) \}")


def syntax_errors(source: str) -> list[str]:
    text = VOID_CLOSURE.sub("= {    }", DOC_ATTRIBUTE.sub("\n\n\n", source))
    tree = PARSER.parse(text.encode())
    found: list[str] = []

    def walk(node) -> None:
        if node.is_error or node.is_missing:
            line = node.start_point[0] + 1
            found.append(f"line {line}: {text.splitlines()[line - 1].strip() if line <= len(text.splitlines()) else ''}")
        elif node.has_error:
            for child in node.children:
                walk(child)

    walk(tree.root_node)
    return found


def swift_files() -> list[Path]:
    return sorted((UNIFFI / "swift").rglob("*.swift")) + [ROOT / "Package.swift"]


class SwiftSyntax(unittest.TestCase):
    def test_every_swift_file_parses(self) -> None:
        files = swift_files()
        self.assertGreater(len(files), 5)
        for path in files:
            with self.subTest(path=str(path.relative_to(ROOT))):
                self.assertEqual([], syntax_errors(path.read_text(encoding="utf-8"))[:5])

    def test_the_check_finds_syntax_errors(self) -> None:
        self.assertEqual([], syntax_errors("func ok() async throws -> Int { 1 }\n"))
        self.assertNotEqual([], syntax_errors("func broken( -> Int { 1 }\n"))
        self.assertNotEqual([], syntax_errors("public struct S { let a: Int\n"))


def async_functions(swift: str) -> list[str]:
    """The body of every generated function that awaits a Rust future."""
    return re.findall(r"\n(?:open |public )?func [^\n]*\)\s*async throws[^\n]*\{\n(.*?)\n\}\n", swift, re.S)


class SwiftSurface(unittest.TestCase):
    swift = SWIFT.read_text(encoding="utf-8")

    def test_every_async_call_is_cancellable(self) -> None:
        helper = self.swift[self.swift.index("fileprivate func uniffiRustCallAsync") :]
        helper = helper[: helper.index("\n}\n")]
        self.assertIn("withTaskCancellationHandler", helper)
        self.assertIn("cancelFunc(rustFuture)", helper)
        self.assertNotIn("Cancellation not supported yet", self.swift)
        calls = self.swift.count("await uniffiRustCallAsync(")
        self.assertGreater(calls, 100)
        self.assertEqual(calls, len(re.findall(r"\n *cancelFunc: ffi_miosa_uniffi_rust_future_cancel_\w+,\n", self.swift)))
        bodies = [b for b in async_functions(self.swift) if "uniffiRustCallAsync" in b]
        self.assertGreater(len(bodies), 100)
        for body in bodies:
            self.assertIn("cancelFunc:", body)

    def test_error_cases_are_lower_camel_with_a_readable_description(self) -> None:
        for name in ("MiosaError", "WebhookError"):
            start = self.swift.index(f"\nenum {name}: Swift.Error")
            enum = self.swift[start : self.swift.index("\n}\n", start)]
            cases = re.findall(r"\n    case (\w+)\(", enum)
            self.assertGreater(len(cases), 3, name)
            for case in cases:
                self.assertTrue(case[0].islower(), f"{name}.{case}")
            self.assertNotIn("String(reflecting: self)", enum)
            self.assertIn("public var errorDescription: String?", enum)
        self.assertIn("case notFound(", self.swift)
        self.assertNotRegex(self.swift, r"\.NotFound\b")
        fields = (UNIFFI / "swift" / "Sources" / "Miosa" / "ErrorFields.swift").read_text(encoding="utf-8")
        self.assertIn("case .notFound:", fields)

    def test_records_are_sendable_and_codable(self) -> None:
        records = swift_records(self.swift)
        self.assertIn("Sandbox", records)
        self.assertIn("Event", records)
        self.assertIn("WebhookPage", records)
        self.assertNotRegex(self.swift, r"#if compiler\(>=6\)\nextension \w+: Sendable \{\}")
        for name in records:
            with self.subTest(record=name):
                self.assertIn(f"\nextension {name}: Sendable {{}}\n", self.swift)
                self.assertIn(f"\nextension {name}: Codable {{}}\n", self.swift)

    def test_no_conformance_is_declared_twice(self) -> None:
        # Swift refuses a redundant conformance, and the parse check cannot see one
        # split between a generated and a hand-written file.
        sources = "".join(path.read_text(encoding="utf-8") for path in swift_files())
        seen = re.findall(r"\nextension (\w+): (\w+) \{\}", sources)
        self.assertEqual([], sorted({pair for pair in seen if seen.count(pair) > 1}))

    def test_record_fields_are_codable_types(self) -> None:
        """Codable is synthesised only when every stored property is Codable."""
        records = set(swift_records(self.swift))
        enums = set(re.findall(r"\nextension (\w+): Codable \{\}(?=\n)", self.swift)) - records
        codable = {"String", "Bool", "Count", "Int", "Int32", "Int64", "UInt64", "Double", "Data", "TimeInterval"} | records | enums
        for name in records:
            start = self.swift.index(f"\npublic struct {name}: ")
            body = self.swift[start : self.swift.index("\n}\n", start)]
            for field, ty in re.findall(r"\n    public (?:let|var) `?(\w+)`?: ([^\n=]+)", body):
                names = set(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", ty))
                with self.subTest(record=name, field=field):
                    self.assertTrue(names <= codable, f"{name}.{field}: {ty}")


    def test_model_counts_are_int(self) -> None:
        """Whole numbers of the model table reach Swift as `Int` (the `Count` alias), not `Int64`."""
        self.assertIn("\npublic typealias Count = Int\n", self.swift)
        start = self.swift.index("\npublic struct Sandbox: ")
        body = self.swift[start : self.swift.index("\n}\n", start)]
        self.assertRegex(body, r"public (?:let|var) `?cpuCount`?: Count\?")
        # The settings records and the SSE event keep explicit widths (see the README).
        explicit = {"ClientOptions", "RequestOptions", "Event"}
        for name in set(swift_records(self.swift)) - explicit:
            start = self.swift.index(f"\npublic struct {name}: ")
            body = self.swift[start : self.swift.index("\n}\n", start)]
            with self.subTest(record=name):
                self.assertNotRegex(body, r"public (?:let|var) `?\w+`?: Int64\??\n", name)


class KotlinSurface(unittest.TestCase):
    kotlin = (KOTLIN / "miosa.kt").read_text(encoding="utf-8")

    def test_exception_message_is_the_api_message(self) -> None:
        overrides = re.findall(r"override val message\n\s+get\(\) = ([^\n]+)", self.kotlin)
        self.assertGreater(len(overrides), 10)
        self.assertEqual({"`errorMessage`"}, set(overrides))

    def test_close_of_streams_and_pagers_ends_a_pending_next(self) -> None:
        classes = re.findall(r"\nopen class (\w*(?:Pager|EventStream)|Socket): ", self.kotlin)
        self.assertIn("EventStream", classes)
        self.assertIn("Socket", classes)
        for name in classes:
            start = self.kotlin.index(f"\nopen class {name}: ")
            body = self.kotlin[start : self.kotlin.index("\nopen class ", start + 1)]
            close = body[body.index("override fun close()") :]
            self.assertRegex(close[:300], r"cancel\(\)[\s\S]*this\.destroy\(\)", name)

    def test_every_stream_and_pager_has_a_cold_flow(self) -> None:
        flows = (KOTLIN / "Flows.kt").read_text(encoding="utf-8")
        ops = [op for op in load_table() if op.returns.kind in ("events", "socket") or op.iter_name]
        self.assertGreater(len(ops), 3)
        for op in ops:
            self.assertIn(f"`{op.name}` as a cold [Flow]", flows)
        self.assertEqual(len(ops), flows.count("coldFlow("))

    def test_socket_operations_open_a_socket_everywhere(self) -> None:
        """The flat namespaces and the handles both answer a `Socket` for every socket row."""
        handles = (KOTLIN / "Handles.kt").read_text(encoding="utf-8")
        ops = [op for op in load_table() if op.returns.kind == "socket"]
        self.assertEqual(3, len(ops))
        for op in ops:
            with self.subTest(op=op.name):
                self.assertRegex(self.kotlin, rf"override suspend fun `{lower_camel(op.function)}`\([^)]*\) : Socket \{{")
        # A sandbox's terminal and a computer's interactive exec, with the id bound.
        self.assertIn("fun stream(params: SandboxTerminalStreamParams? = null): Socket = ", handles)
        self.assertIn("fun spawn(command: String, params: ExecSpawnParams? = null): Socket = ", handles)

    def test_the_runtime_is_named_before_the_first_client(self) -> None:
        """The User-Agent's runtime and SLF4J forwarding are set up by every Client constructor."""
        self.assertEqual(2, len(re.findall(r"JvmRuntime\.announce\(\)\n    UniffiLib\.uniffi_miosa_uniffi_fn_constructor_client_", self.kotlin)))
        swift = SWIFT.read_text(encoding="utf-8")
        self.assertEqual(2, len(re.findall(r"\n(?:public convenience init\(apiKey|public static func fromEnv)[^\n]*\{\n    SwiftRuntime\.announce\(\)\n", swift)))


class SwiftSockets(unittest.TestCase):
    swift = SWIFT.read_text(encoding="utf-8")
    extra = (UNIFFI / "swift" / "Sources" / "Miosa" / "Sockets.swift").read_text(encoding="utf-8")
    handles = (UNIFFI / "swift" / "Sources" / "Miosa" / "Handles.swift").read_text(encoding="utf-8")

    def test_socket_object_has_the_whole_api(self) -> None:
        start = self.swift.index("\nopen class Socket: ")
        body = self.swift[start : self.swift.index("\nopen class ", start + 1)]
        for signature in [
            r"func next\(\) ?async throws +-> SocketMessage\?",
            r"func sendText\(text: String\) ?async throws",
            r"func sendBytes\(data: Data\) ?async throws",
            r"func resize\(cols: Count, rows: Count\) ?async throws",
            r"func signal\(signal: String\) ?async throws",
            r"func closeStdin\(\) ?async throws",
            r"func exitCode\(\) +-> Count\?",
            r"func close\(\) ",
        ]:
            with self.subTest(signature=signature):
                self.assertRegex(body, signature)

    def test_socket_is_an_async_sequence_of_messages(self) -> None:
        self.assertIn("extension Socket: AsyncSequence {", self.extra)
        self.assertIn("public typealias Element = SocketMessage", self.extra)
        self.assertIn("extension SocketChannel: Codable {}", self.swift)

    def test_socket_operations_answer_a_socket(self) -> None:
        ops = [op for op in load_table() if op.returns.kind == "socket"]
        self.assertEqual(3, len(ops))
        for op in ops:
            with self.subTest(op=op.name):
                self.assertRegex(self.swift, rf"open func {lower_camel(op.function)}\([^)]*\) ?async throws +-> Socket +\{{")
        self.assertIn("func stream(params: SandboxTerminalStreamParams? = nil) async throws -> Socket {", self.handles)
        self.assertIn("func spawn(command: String, params: ExecSpawnParams? = nil) async throws -> Socket {", self.handles)


if __name__ == "__main__":
    unittest.main()
