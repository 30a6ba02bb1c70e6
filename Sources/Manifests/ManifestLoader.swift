#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Primitives

/// Reads app manifests: one app per YAML file, strictly checked, every problem with its file, line and field.
public enum ManifestLoader {
    /// Files larger than this are refused unread: a manifest is a few lines.
    public static let maxFileSize = 1 << 20

    /// Parses one manifest's text. `path` is used in messages only.
    /// Fields `policy` refuses are problems like any other (the agent then leaves the app as it was).
    public static func parse(_ text: String, path: String, policy: ManifestPolicy = .unrestricted) -> ManifestFile {
        parse(text, path: path, contentDigest: digest(of: text.utf8), policy: policy)
    }

    /// Loads every manifest file in a directory (sorted by filename), checking duplicate names across files
    /// (a later duplicate becomes a failure of its file). Throws a ``ManifestProblem`` only when the
    /// directory cannot be read; its message says which directory and why.
    public static func loadDirectory(_ directory: String, policy: ManifestPolicy = .unrestricted) throws -> [ManifestFile] {
        let fileManager = FileManager.default
        guard let isDirectory = Self.isDirectory(directory) else {
            throw ManifestProblem(
                file: directory,
                message: "cannot read the manifest directory: it does not exist; create it or give the right path"
            )
        }
        guard isDirectory else {
            throw ManifestProblem(
                file: directory,
                message: "cannot read the manifest directory: it is a file, not a directory; give the directory "
                    + "that holds the .yaml files"
            )
        }
        let names: [String]
        do {
            names = try fileManager.contentsOfDirectory(atPath: directory)
        } catch {
            throw ManifestProblem(
                file: directory,
                message: "cannot read the manifest directory: \(reason(for: error)); check its permissions"
            )
        }

        var files: [ManifestFile] = []
        for name in names.filter(isManifestFileName).sorted(by: { $0.utf8.lexicographicallyPrecedes($1.utf8) }) {
            let path = joined(directory, name)
            if Self.isDirectory(path) == true { continue }
            files.append(loadFile(at: path, policy: policy))
        }
        markDuplicateNames(in: &files)
        return files
    }

    /// Whether a directory entry is a manifest: `.yaml` or `.yml`, and not hidden or an editor's leftover
    /// (`.web.yaml`, `.#web.yaml`, `web.yaml~`, `#web.yaml#`).
    static func isManifestFileName(_ name: String) -> Bool {
        guard name.hasSuffix(".yaml") || name.hasSuffix(".yml") else { return false }
        return !name.hasPrefix(".") && !name.hasPrefix("#") && !name.hasSuffix("~")
    }

    // MARK: - Internals

    static func parse(_ text: String, path: String, contentDigest: String, policy: ManifestPolicy) -> ManifestFile {
        func failed(_ problems: [ManifestProblem], declaredName: String? = nil) -> ManifestFile {
            ManifestFile(
                path: path, result: .failure(ManifestFileError(problems: problems)),
                declaredName: declaredName, contentDigest: contentDigest
            )
        }
        switch YAMLComposer.compose(text) {
        case .empty:
            var file = failed([ManifestProblem(
                file: path,
                message: "the file is empty; a manifest needs at least `name`, `image` and `replicas`, e.g. "
                    + "`name: web`, `image: hecd-demo:1`, `replicas: 1` on lines of their own "
                    + "(delete the file to remove the app)"
            )])
            file.isEmpty = true
            return file
        case let .failure(line, column, message):
            return failed([ManifestProblem(file: path, line: line, column: column, message: message)])
        case let .document(root, repeatedKeys):
            var validator = ManifestValidator(path: path, repeatedKeys: repeatedKeys, policy: policy)
            let spec = validator.validate(root)
            var file: ManifestFile
            if let spec {
                file = ManifestFile(path: path, result: .success(spec), declaredName: spec.name, contentDigest: contentDigest)
            } else {
                file = failed(sortedByLine(validator.problems), declaredName: validator.declaredName)
            }
            file.declaredNameLine = validator.declaredNameLine
            return file
        }
    }

    private static func loadFile(at path: String, policy: ManifestPolicy) -> ManifestFile {
        func unreadable(_ message: String, digest: String) -> ManifestFile {
            ManifestFile(
                path: path, result: .failure(ManifestFileError(problems: [ManifestProblem(file: path, message: message)])),
                declaredName: nil, contentDigest: digest
            )
        }
        let url = URL(fileURLWithPath: path)
        // Symbolic links are followed; only a regular file is read (a FIFO would block the reader).
        if let attributes = try? FileManager.default.attributesOfItem(atPath: url.resolvingSymlinksInPath().path) {
            if let type = attributes[.type] as? FileAttributeType, type == .typeSymbolicLink {
                return unreadable("is a symbolic link to nothing (its target does not exist); fix or delete the link",
                                  digest: "dangling-link")
            }
            if let type = attributes[.type] as? FileAttributeType, type != .typeRegular {
                return unreadable("is not a regular file; a manifest must be a plain text file", digest: "not-a-file")
            }
            if let size = attributes[.size] as? Int, size > maxFileSize {
                return unreadable(
                    "is \(size) bytes, more than the \(maxFileSize) a manifest may have; is this the right file?",
                    digest: "size-\(size)"
                )
            }
        }
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            return unreadable("cannot be read: \(reason(for: error)); check the file and its permissions",
                              digest: "unreadable: \(reason(for: error))")
        }
        let digest = digest(of: data)
        guard let text = String(validating: data, as: UTF8.self) else {
            return unreadable("is not UTF-8 text; save it as UTF-8", digest: digest)
        }
        return parse(text, path: path, contentDigest: digest, policy: policy)
    }

    /// The second and later files declaring a name already declared fail, pointing at the first.
    private static func markDuplicateNames(in files: inout [ManifestFile]) {
        var firstDeclarations: [String: (path: String, line: Int?)] = [:]
        for index in files.indices {
            guard let name = files[index].declaredName else { continue }
            guard let first = firstDeclarations[name] else {
                firstDeclarations[name] = (files[index].path, files[index].declaredNameLine)
                continue
            }
            let place = first.line.map { "\(first.path):\($0)" } ?? first.path
            let problem = ManifestProblem(
                file: files[index].path, line: files[index].declaredNameLine, field: "name",
                message: "the app \"\(name)\" is already declared in \(place); each app has exactly one manifest: "
                    + "rename this app or delete one of the two files"
            )
            files[index].result = .failure(ManifestFileError(problems: sortedByLine(files[index].problems + [problem])))
        }
    }

    private static func sortedByLine(_ problems: [ManifestProblem]) -> [ManifestProblem] {
        problems.enumerated().sorted { lhs, rhs in
            let left = (lhs.element.line ?? 0, lhs.element.column ?? 0, lhs.offset)
            let right = (rhs.element.line ?? 0, rhs.element.column ?? 0, rhs.offset)
            return left < right
        }.map(\.element)
    }

    /// Whether the path (symbolic links followed) is a directory; nil when nothing is there.
    private static func isDirectory(_ path: String) -> Bool? {
        var status = stat()
        guard stat(path, &status) == 0 else { return nil }
        return status.st_mode & S_IFMT == S_IFDIR
    }

    private static func joined(_ directory: String, _ name: String) -> String {
        directory.hasSuffix("/") ? directory + name : directory + "/" + name
    }

    /// The system's own words (`Permission denied`) where Foundation wraps them, else Foundation's.
    static func reason(for error: any Error) -> String {
        let posix = (error as? CocoaError)?.underlying as? POSIXError ?? error as? POSIXError
        if let posix, let text = strerror(posix.code.rawValue) {
            return String(cString: text)
        }
        return "\(error)"
    }

    private static func digest<Bytes: Collection<UInt8>>(of bytes: Bytes) -> String {
        String(StableHash.fnv1a(bytes), radix: 16) + "-\(bytes.count)"
    }
}
