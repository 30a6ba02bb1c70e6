#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Unified diffs for `--noop`: `diff -u` when the machine has it, else a line diff of our own.
public enum TextDiff {
    /// The diff from `old` (nil: the file does not exist yet) to `new`, labelled with `path`.
    public static func unified(old: String?, new: String, path: String, runner: ShellCommandRunner = ShellCommandRunner()) async -> String {
        if let diff = ["/usr/bin/diff", "/bin/diff"].first(where: { FileManager.default.isExecutableFile(atPath: $0) }),
            let output = await systemDiff(diff, old: old, new: new, path: path, runner: runner)
        {
            return output
        }
        return lineDiff(old: old, new: new, path: path)
    }

    private static func systemDiff(
        _ diff: String, old: String?, new: String, path: String, runner: ShellCommandRunner
    ) async -> String? {
        let folder = PathText.temporaryDirectory + "hecd-diff-\(UUID().uuidString.prefix(8))"
        guard (try? FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)) != nil else {
            return nil
        }
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let oldFile = folder + "/old"
        let newFile = folder + "/new"
        guard FileManager.default.createFile(atPath: newFile, contents: Data(new.utf8)) else { return nil }
        if let old { guard FileManager.default.createFile(atPath: oldFile, contents: Data(old.utf8)) else { return nil } }
        let command = [
            diff, "-u", "--label", path, "--label", path + " (rendered)", old == nil ? "/dev/null" : oldFile, newFile,
        ].map(ShellQuote.quote).joined(separator: " ")
        let result = await runner.run(command, timeout: .seconds(30))
        // diff exits 0 (same), 1 (different) or 2 (trouble).
        guard let status = result.status, status == 0 || status == 1 else { return nil }
        return result.output
    }

    /// A unified diff of whole lines with three lines of context, from a longest common subsequence
    /// (files over 4000 lines each are shown as removed and added whole).
    public static func lineDiff(old: String?, new: String, path: String) -> String {
        let a = old.map(lines) ?? []
        let b = lines(new)
        var operations: [(Character, String)] = []
        if a.count * b.count > 16_000_000 {
            operations = a.map { ("-", $0) } + b.map { ("+", $0) }
        } else {
            // lengths[i][j]: the LCS of a[i...] and b[j...].
            var lengths = [[Int]](repeating: [Int](repeating: 0, count: b.count + 1), count: a.count + 1)
            for i in stride(from: a.count - 1, through: 0, by: -1) {
                for j in stride(from: b.count - 1, through: 0, by: -1) {
                    lengths[i][j] = a[i] == b[j] ? lengths[i + 1][j + 1] + 1 : max(lengths[i + 1][j], lengths[i][j + 1])
                }
            }
            var i = 0, j = 0
            while i < a.count || j < b.count {
                if i < a.count, j < b.count, a[i] == b[j] {
                    operations.append((" ", a[i])); i += 1; j += 1
                } else if i < a.count, j == b.count || lengths[i + 1][j] >= lengths[i][j + 1] {
                    // Removals before additions, as diff -u prints them.
                    operations.append(("-", a[i])); i += 1
                } else {
                    operations.append(("+", b[j])); j += 1
                }
            }
        }
        guard operations.contains(where: { $0.0 != " " }) else { return "" }
        var output = "--- \(old == nil ? "/dev/null" : path)\n+++ \(path) (rendered)\n"
        // Hunks: changed lines with up to three lines of context around them.
        let context = 3
        var index = 0
        var oldLine = 1, newLine = 1
        var hunkStart: (index: Int, old: Int, new: Int)?
        var lastChange = -1
        func flush(through end: Int) {
            guard let start = hunkStart else { return }
            let slice = operations[start.index...end]
            let oldCount = slice.filter { $0.0 != "+" }.count
            let newCount = slice.filter { $0.0 != "-" }.count
            output += "@@ -\(oldCount == 0 ? start.old - 1 : start.old),\(oldCount) +\(newCount == 0 ? start.new - 1 : start.new),\(newCount) @@\n"
            for (mark, line) in slice { output += "\(mark)\(line)\n" }
            hunkStart = nil
        }
        var positions: [(old: Int, new: Int)] = []
        for (mark, _) in operations {
            positions.append((oldLine, newLine))
            if mark != "+" { oldLine += 1 }
            if mark != "-" { newLine += 1 }
        }
        while index < operations.count {
            if operations[index].0 != " " {
                if hunkStart == nil {
                    let first = max(0, index - context)
                    hunkStart = (first, positions[first].old, positions[first].new)
                } else if index - lastChange > 2 * context + 1 {
                    flush(through: lastChange + context)
                    let first = index - context
                    hunkStart = (first, positions[first].old, positions[first].new)
                }
                lastChange = index
            }
            index += 1
        }
        flush(through: min(operations.count - 1, lastChange + context))
        return output
    }

    private static func lines(_ text: String) -> [String] {
        var result = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        if result.last == "" { result.removeLast() }
        return result
    }
}

/// Single quotes for the shell.
public enum ShellQuote {
    public static func quote(_ text: String) -> String {
        let safe = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./:=@%+,".unicodeScalars)
        if !text.isEmpty, text.unicodeScalars.allSatisfy({ safe.contains($0) }) { return text }
        return "'" + text.replacing("'", with: "'\\''") + "'"
    }
}
