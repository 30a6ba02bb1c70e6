#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The path arithmetic of `NSString`, which FoundationEssentials lacks.
enum PathText {
    /// `directory/name`, with one slash between them.
    static func join(_ directory: String, _ name: String) -> String {
        if directory.isEmpty { return name }
        return directory.hasSuffix("/") ? directory + name : directory + "/" + name
    }

    /// The part after the last slash, trailing slashes ignored (`/a/b/` → `b`, `/` → `/`).
    static func lastComponent(_ path: String) -> String {
        var trimmed = Substring(path)
        while trimmed.count > 1, trimmed.hasSuffix("/") { trimmed.removeLast() }
        if trimmed == "/" { return "/" }
        return String(trimmed.split(separator: "/", omittingEmptySubsequences: false).last ?? trimmed)
    }

    /// The path without its last component (`/a/b` → `/a`, `/a` → `/`, `a` → ``).
    static func parent(_ path: String) -> String {
        var trimmed = Substring(path)
        while trimmed.count > 1, trimmed.hasSuffix("/") { trimmed.removeLast() }
        guard let slash = trimmed.lastIndex(of: "/") else { return "" }
        if slash == trimmed.startIndex { return "/" }
        var parent = trimmed[..<slash]
        while parent.count > 1, parent.hasSuffix("/") { parent.removeLast() }
        return String(parent)
    }

    /// The temporary directory (`TMPDIR`, else `/tmp`), ending in a slash like `NSTemporaryDirectory()`.
    static var temporaryDirectory: String {
        let path = FileManager.default.temporaryDirectory.path
        return path.hasSuffix("/") ? path : path + "/"
    }
}
