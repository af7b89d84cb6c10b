#!/usr/bin/env python3
"""Rewrites the raw uniffi-bindgen output where UniFFI's templates fall short of
what Kotlin and Swift users expect (bindings-uniffi/generate.sh runs it on the
freshly generated files, before they are compared or copied).

Every rewrite names the exact text it replaces and fails when that text is
missing, so an upgrade of UniFFI that changes its templates stops the build
instead of silently shipping the old behaviour.

Kotlin:
  * an exception's `message` is the API's message, not a dump of every field;
  * the Client constructors first name Kotlin in the User-Agent and connect SLF4J;
  * `close()` of an event stream, socket or pager ends a pending `next()` first (UniFFI's
    `close()` only drops a reference, which the pending call still holds).
Swift:
  * every async call runs in `withTaskCancellationHandler`, whose handler cancels
    the Rust future, so `Task.cancel()` aborts the request; a cancelled call
    throws `CancellationError` (UniFFI would stop the process);
  * the error enum's cases are lowerCamel and `errorDescription` is the message;
  * records (and the plain enums they hold) are `Sendable` on every compiler and `Codable`.
  * the Client initializers first name Swift in the User-Agent.

usage: postprocess.py KOTLIN_FILE SWIFT_FILE
"""

from __future__ import annotations

import re
import sys


def replace_once(text: str, old: str, new: str, what: str) -> str:
    count = text.count(old)
    if count != 1:
        raise SystemExit(f"postprocess: expected the {what} exactly once in the UniFFI output, found it {count} times")
    return text.replace(old, new)


def replace_all(text: str, pattern: str, new, what: str, at_least: int = 1, flags: int = 0) -> str:
    result, count = re.subn(pattern, new, text, flags=flags)
    if count < at_least:
        raise SystemExit(f"postprocess: found the {what} {count} times in the UniFFI output, expected {at_least}+")
    return result


# --- Kotlin -------------------------------------------------------------------------------------

KOTLIN_CLOSE = """    @Synchronized
    override fun close() {
        this.destroy()
    }
"""

# `cancel()` is the Rust `close()` (renamed in uniffi.toml); it cannot fail except on an
# object destroyed by a concurrent close, which is then closed already.
KOTLIN_CLOSE_ENDING = """    /** Ends the stream (a pending `next()` returns null) and frees the native object. */
    @Synchronized
    override fun close() {
        if (!uniffiIsDestroyed) {
            try {
                cancel()
            } catch (alreadyClosed: IllegalStateException) {
                // a concurrent close() got there first
            }
        }
        this.destroy()
    }
"""


def kotlin_class_body(text: str, name: str) -> tuple[int, int]:
    start = text.index(f"\nopen class {name}: ")
    end = text.index("\nopen class ", start + 1) if "\nopen class " in text[start + 1 :] else len(text)
    return start, end


def postprocess_kotlin(text: str, closable: list[str]) -> str:
    # Every error case: `message` is the API's message (fields stay properties).
    text = replace_all(
        text,
        r"override val message\n            get\(\) = \"errorMessage=\$\{ `errorMessage` \}[^\n]*\n",
        "override val message\n            get() = `errorMessage`\n",
        "field-dump `message` of the error cases",
    )
    for name in closable:
        start, end = kotlin_class_body(text, name)
        body = replace_once(text[start:end], KOTLIN_CLOSE, KOTLIN_CLOSE_ENDING, f"`close()` of {name}")
        text = text[:start] + body + text[end:]
    # Before the first client: Kotlin and the JVM named in the User-Agent, SLF4J connected (Observe.kt).
    text = replace_all(
        text,
        r"(\{ _status ->\n)(    UniffiLib\.uniffi_miosa_uniffi_fn_constructor_client_(?:new|from_env)\()",
        r"\1    JvmRuntime.announce()\n\2",
        "Client constructors",
        2,
    )
    return text


# --- Swift --------------------------------------------------------------------------------------

SWIFT_ASYNC_SIGNATURE = """    freeFunc: (UInt64) -> (),
    liftFunc: (F) throws -> T,"""
SWIFT_ASYNC_SIGNATURE_CANCEL = """    freeFunc: (UInt64) -> (),
    cancelFunc: @escaping @Sendable (UInt64) -> (),
    liftFunc: (F) throws -> T,"""

SWIFT_POLL_LOOP = """    var pollResult: Int8;
    repeat {
        pollResult = await withUnsafeContinuation {
            pollFunc(
                rustFuture,
                { handle, pollResult in
                    uniffiFutureContinuationCallback(handle: handle, pollResult: pollResult)
                },
                uniffiContinuationHandleMap.insert(obj: $0)
            )
        }
    } while pollResult != UNIFFI_RUST_FUTURE_POLL_READY
"""
# Cancelling the Rust future drops it (which aborts the request) and wakes the poll
# loop; `completeFunc` then reports CALL_CANCELLED.
SWIFT_POLL_LOOP_CANCELLABLE = """    await withTaskCancellationHandler {
        var pollResult: Int8
        repeat {
            pollResult = await withUnsafeContinuation {
                pollFunc(
                    rustFuture,
                    { handle, pollResult in
                        uniffiFutureContinuationCallback(handle: handle, pollResult: pollResult)
                    },
                    uniffiContinuationHandleMap.insert(obj: $0)
                )
            }
        } while pollResult != UNIFFI_RUST_FUTURE_POLL_READY
    } onCancel: {
        cancelFunc(rustFuture)
    }
"""

SWIFT_CANCELLED_STATUS = """        case CALL_CANCELLED:
            fatalError("Cancellation not supported yet")
"""
SWIFT_CANCELLED_THROWS = """        case CALL_CANCELLED:
            throw CancellationError()
"""

SWIFT_ERROR_DESCRIPTION = """    public var errorDescription: String? {
        String(reflecting: self)
    }
"""


def lower_first(name: str) -> str:
    return name[:1].lower() + name[1:]


def swift_enum_span(text: str, name: str) -> tuple[int, int]:
    start = text.index(f"\nenum {name}: Swift.Error")
    end = text.index("\n}\n", start) + 3
    return start, end


def webhook_error_description(cases: list[str]) -> str:
    bound = ",\n             ".join(f"let .{lower_first(c)}(message)" for c in cases)
    return (
        "    public var errorDescription: String? {\n"
        f"        switch self {{\n        case {bound}:\n            return message\n        }}\n    }}\n"
    )


# `message` of MiosaError comes from ErrorFields.swift (generated from core/errors.toml).
ERROR_DESCRIPTIONS = {
    "MiosaError": lambda cases: "    public var errorDescription: String? {\n        message\n    }\n",
    "WebhookError": webhook_error_description,
}
ERROR_ENUMS = list(ERROR_DESCRIPTIONS)


def swift_records(text: str) -> list[str]:
    """The generated records: every public struct but UniFFI's converters."""
    return [name for name in re.findall(r"\npublic struct (\w+): Equatable, Hashable[^{\n]*\{\n", text)
            if not name.startswith("FfiConverter")]


def postprocess_swift(text: str) -> str:
    text = replace_once(text, SWIFT_ASYNC_SIGNATURE, SWIFT_ASYNC_SIGNATURE_CANCEL, "uniffiRustCallAsync signature")
    text = replace_once(text, SWIFT_POLL_LOOP, SWIFT_POLL_LOOP_CANCELLABLE, "async poll loop")
    text = replace_once(text, SWIFT_CANCELLED_STATUS, SWIFT_CANCELLED_THROWS, "CALL_CANCELLED handling")
    # Each call site names its future's free function; the cancel function has the same suffix.
    text = replace_all(
        text,
        r"( *)freeFunc: ffi_(\w+)_rust_future_free_(\w+),\n",
        r"\1freeFunc: ffi_\2_rust_future_free_\3,\n\1cancelFunc: ffi_\2_rust_future_cancel_\3,\n",
        "async call sites",
    )

    # The error enums: lowerCamel cases everywhere they are named, the message as description.
    variants: set[str] = set()
    for name in ERROR_ENUMS:
        start, end = swift_enum_span(text, name)
        cases = re.findall(r"\n    case (\w+)\(", text[start:end])
        if not cases:
            raise SystemExit(f"postprocess: {name} has no cases in the Swift output")
        variants.update(cases)
        description = ERROR_DESCRIPTIONS[name](cases)
        enum = replace_once(text[start:end], SWIFT_ERROR_DESCRIPTION, description, f"errorDescription of {name}")
        text = text[:start] + enum + text[end:]
    names = "|".join(sorted(variants))
    text = replace_all(text, rf"(\n    case )({names})\(", lambda m: m[1] + lower_first(m[2]) + "(", "error cases", len(variants))
    text = replace_all(text, rf"(\.)({names})\(", lambda m: m[1] + lower_first(m[2]) + "(", "error case uses", len(variants))

    # Records: Sendable on every compiler (not only Swift 6), and Codable.
    text = replace_all(
        text,
        r"#if compiler\(>=6\)\nextension (\w+): Sendable \{\}\n#endif\n",
        r"extension \1: Sendable {}\n",
        "conditional Sendable conformances",
    )
    # Before the first client: Swift named in the User-Agent (Observe.swift).
    text = replace_all(
        text,
        r"(\npublic convenience init\(apiKey: [^\n]*\{\n|\npublic static func fromEnv\([^\n]*\{\n)",
        r"\1    SwiftRuntime.announce()\n",
        "Client initializers",
        2,
    )
    records = swift_records(text)
    if not records:
        raise SystemExit("postprocess: found no record structs in the Swift output")
    text += "\n// Records are plain values: they encode and decode with Swift's Codable.\n"
    text += "".join(f"extension {name}: Codable {{}}\n" for name in records)
    # Plain enums held by records (a socket message's channel) must be Codable too;
    # Swift synthesises that only in the file that declares the enum.
    enums = re.findall(r"\npublic enum (\w+): Equatable, Hashable \{\n", text)
    text += "".join(f"extension {name}: Codable {{}}\n" for name in enums)
    return text


def main() -> None:
    if len(sys.argv) != 3:
        raise SystemExit(__doc__)
    kotlin_path, swift_path = sys.argv[1:]
    with open(kotlin_path, encoding="utf-8") as f:
        kotlin = f.read()
    closable = ["EventStream", "Socket"] + sorted(set(re.findall(r"\nopen class (\w+Pager): ", kotlin)))
    with open(kotlin_path, "w", encoding="utf-8") as f:
        f.write(postprocess_kotlin(kotlin, closable))
    with open(swift_path, encoding="utf-8") as f:
        swift = f.read()
    with open(swift_path, "w", encoding="utf-8") as f:
        f.write(postprocess_swift(swift))


if __name__ == "__main__":
    main()
