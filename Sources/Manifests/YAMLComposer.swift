import Yams

/// A key that was written twice in one mapping. Yams refuses such documents outright, so the composer
/// renames each repeat to a placeholder and parses again; the validator then reports the repeat with its
/// line and field path, next to every other problem in the file.
struct RepeatedKey {
    /// The key as the user wrote it.
    var key: String
    /// Line of its first occurrence.
    var firstLine: Int
}

/// What composing a manifest's text gave.
enum ComposedDocument {
    /// No document at all: empty, or only comments.
    case empty
    /// The document's root, and the repeated keys renamed to placeholders (placeholder → key).
    case document(Node, repeatedKeys: [String: RepeatedKey])
    /// The text is not YAML the composer accepts.
    case failure(line: Int?, column: Int?, message: String)
}

/// Turns text into a Yams node tree, working around the two things Yams' own errors do not say well:
/// repeated keys (reported for the whole document, without a field path) and syntax errors (a multi-line
/// description with a snippet).
enum YAMLComposer {
    /// Each round renames one repeated key; a document with more is beyond saving.
    static let maxRepeatedKeys = 50

    static func compose(_ text: String) -> ComposedDocument {
        let composed = composeDocument(text)
        guard case let .failure(line?, column, message) = composed else { return composed }
        let place = insideText(line: line, column: column, of: text)
        return .failure(line: place.line, column: place.column, message: message)
    }

    /// libyaml places an error found at the end of the input on the line after the last one (of a file that
    /// does not end in a line break, too); the problem is shown at the end of the last line instead, where an
    /// editor can go. Lines are counted as libyaml counts them: LF, CR LF, a lone CR, NEL, LS and PS end a line.
    static func insideText(line: Int, column: Int?, of text: String) -> (line: Int, column: Int?) {
        var lines = 1
        var lastLineLength = 0
        var previous: Unicode.Scalar?
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\n" where previous == "\r":
                break
            case "\n", "\r", "\u{85}", "\u{2028}", "\u{2029}":
                lines += 1
                lastLineLength = 0
            default:
                lastLineLength += 1
            }
            previous = scalar
        }
        guard line > lines else { return (max(line, 1), column) }
        return (lines, lastLineLength + 1)
    }

    private static func composeDocument(_ text: String) -> ComposedDocument {
        var text = text
        // A byte order mark (Windows editors write one) is not YAML content once the text is decoded.
        if text.unicodeScalars.first == "\u{FEFF}" { text.unicodeScalars.removeFirst() }
        var repeatedKeys: [String: RepeatedKey] = [:]
        while true {
            do {
                // The basic resolver (no rules) and YAMLTypes instead of Yams' default one, which runs ICU regexes.
                guard let composed = try Yams.compose(yaml: text, .basic, .default) else { return .empty }
                // Aliases share their node in Yams' tree; typing the scalars rebuilds it, so an alias bomb would
                // be expanded for real. Such a tree goes to the validator as it is, which refuses it by its size.
                if ExpandedSize.overflow(of: composed, limit: ManifestLoader.maxFileSize) != nil {
                    return .document(composed, repeatedKeys: repeatedKeys)
                }
                let root = YAMLTypes.resolvingTags(composed)
                if case .scalar = root, root.tagName == .null { return .empty }
                return .document(root, repeatedKeys: repeatedKeys)
            } catch let YamlError.duplicatedKeysInMapping(duplicates, context) {
                guard let key = duplicates.first else {
                    return .failure(line: context.mark.line, column: context.mark.column,
                                    message: "a key is repeated in one mapping; keep only one of them")
                }
                let placeholder = makePlaceholder(number: repeatedKeys.count, avoiding: text)
                guard repeatedKeys.count < maxRepeatedKeys,
                      let renamed = renameRepeat(of: key, firstAt: context.mark, to: placeholder, in: text)
                else {
                    return .failure(
                        line: context.mark.line, column: context.mark.column,
                        message: "`\(key)` is written more than once in the same mapping (first on this line); "
                            + "keep only one of them"
                    )
                }
                repeatedKeys[placeholder] = RepeatedKey(key: key, firstLine: context.mark.line)
                text = renamed
            } catch let error as YamlError {
                return syntaxFailure(error, text: text)
            } catch {
                return .failure(line: nil, column: nil, message: "cannot be parsed as YAML: \(error)")
            }
        }
    }

    // MARK: - Repeated keys

    private static func makePlaceholder(number: Int, avoiding text: String) -> String {
        var placeholder = "__hecd_repeated_key_\(number)__"
        while text.contains(placeholder) { placeholder += "_" }
        return placeholder
    }

    /// Finds the second occurrence of `key` in the mapping whose first key sits at `first`, and writes
    /// `placeholder` in its place. Returns nil when the second occurrence cannot be found with confidence.
    static func renameRepeat(of key: String, firstAt first: Mark, to placeholder: String, in text: String) -> String? {
        var lines = text.unicodeScalars.split(separator: "\n", omittingEmptySubsequences: false).map { Array($0) }
        let firstLine = first.line - 1
        let firstColumn = first.column - 1
        guard lines.indices.contains(firstLine), firstColumn <= lines[firstLine].count else { return nil }
        let tokens = [key, "\"\(key)\"", "'\(key)'"].map { Array($0.unicodeScalars) }

        let before = lines[firstLine][..<firstColumn].filter { $0 != " " && $0 != "\t" }
        let inFlowMapping = before.last == "{" || before.last == ","
        let found: (line: Int, column: Int, length: Int)?
        if inFlowMapping {
            found = findInFlowMapping(tokens: tokens, lines: lines, after: (firstLine, firstColumn))
        } else {
            found = findInBlockMapping(tokens: tokens, lines: lines, after: firstLine, indent: firstColumn)
        }
        guard let found else { return nil }
        var line = lines[found.line]
        line.replaceSubrange(found.column..<(found.column + found.length), with: placeholder.unicodeScalars)
        lines[found.line] = line
        return lines.map { scalars in
            var string = ""
            string.unicodeScalars.append(contentsOf: scalars)
            return string
        }.joined(separator: "\n")
    }

    /// A later line indented exactly like the first key, before the mapping ends (a line indented less).
    private static func findInBlockMapping(
        tokens: [[Unicode.Scalar]], lines: [[Unicode.Scalar]], after firstLine: Int, indent: Int
    ) -> (line: Int, column: Int, length: Int)? {
        for index in lines.indices where index > firstLine {
            let line = lines[index]
            let lineIndent = line.prefix { $0 == " " }.count
            let rest = line.dropFirst(lineIndent)
            if rest.isEmpty || rest.first == "#" || rest.first == "\r" { continue }
            if lineIndent < indent { return nil }
            if lineIndent > indent { continue }
            for token in tokens where keyFollows(token, in: line, at: indent) {
                return (index, indent, token.count)
            }
        }
        return nil
    }

    /// Later in the same flow mapping (`{a: 1, a: 2}`): a key right after a `,` at the mapping's own depth,
    /// before its closing `}`. Quoted scalars and comments are skipped so their text cannot match.
    private static func findInFlowMapping(
        tokens: [[Unicode.Scalar]], lines: [[Unicode.Scalar]], after start: (line: Int, column: Int)
    ) -> (line: Int, column: Int, length: Int)? {
        guard let firstToken = tokens.first(where: { keyFollows($0, in: lines[start.line], at: start.column) }) else {
            return nil
        }
        var depth = 0
        var atScalarStart = false
        var expectingKey = false
        var index = start.line
        var column = start.column + firstToken.count
        var quote: Unicode.Scalar?
        while index < lines.count {
            let line = lines[index]
            guard column < line.count else {
                index += 1
                column = 0
                continue
            }
            let scalar = line[column]
            if let open = quote {
                if open == "\"" && scalar == "\\" {
                    column += 2
                    continue
                }
                if scalar == open {
                    if open == "'" && column + 1 < line.count && line[column + 1] == "'" {
                        column += 2
                        continue
                    }
                    quote = nil
                }
                column += 1
                continue
            }
            if scalar == " " || scalar == "\t" || scalar == "\r" {
                column += 1
                continue
            }
            if expectingKey && depth == 0 {
                for token in tokens where keyFollows(token, in: line, at: column) {
                    return (index, column, token.count)
                }
            }
            switch scalar {
            case "\"" where atScalarStart, "'" where atScalarStart:
                quote = scalar
                atScalarStart = false
                expectingKey = false
            case "{", "[":
                depth += 1
                atScalarStart = true
                expectingKey = false
            case "}", "]":
                if depth == 0 { return nil }
                depth -= 1
                atScalarStart = false
                expectingKey = false
            case ",":
                atScalarStart = true
                expectingKey = depth == 0
            case ":":
                atScalarStart = true
                expectingKey = false
            case "#" where column == 0 || line[column - 1] == " " || line[column - 1] == "\t":
                column = line.count
                continue
            default:
                atScalarStart = false
                expectingKey = false
            }
            column += 1
        }
        return nil
    }

    /// `token` at `column`, then optional spaces and a `:` that ends the key.
    private static func keyFollows(_ token: [Unicode.Scalar], in line: [Unicode.Scalar], at column: Int) -> Bool {
        guard column + token.count <= line.count, Array(line[column..<(column + token.count)]) == token else {
            return false
        }
        var next = column + token.count
        while next < line.count, line[next] == " " { next += 1 }
        guard next < line.count, line[next] == ":" else { return false }
        let afterColon = next + 1
        return afterColon == line.count || [" ", "\t", "\r", ",", "}"].contains(line[afterColon])
    }

    // MARK: - Syntax errors

    private static func syntaxFailure(_ error: YamlError, text: String) -> ComposedDocument {
        switch error {
        case let .scanner(context, problem, mark, _),
             let .parser(context, problem, mark, _),
             let .composer(context, problem, mark, _):
            if problem.contains("found another document") {
                return .failure(
                    line: mark.line, column: mark.column,
                    message: "a second YAML document starts here; a manifest file holds one app: "
                        + "move the other app to a file of its own"
                )
            }
            var message = "YAML syntax error: \(problem)"
            if let context {
                message += " (\(context.text)"
                if context.mark.line != mark.line { message += " that starts on line \(context.mark.line)" }
                message += ")"
            }
            message += "; " + syntaxHint(line: mark.line, text: text)
            return .failure(line: mark.line, column: mark.column, message: message)
        case let .reader(problem, offset, _, _):
            let position = offset.map { lineAndColumn(ofCharacterOffset: $0, in: text) }
            return .failure(
                line: position?.line, column: position?.column,
                message: "holds a character YAML does not accept (\(problem)); remove it or save the file as UTF-8 text"
            )
        default:
            return .failure(line: nil, column: nil, message: "cannot be parsed as YAML: \(error)")
        }
    }

    private static func syntaxHint(line: Int, text: String) -> String {
        let lines = text.unicodeScalars.split(separator: "\n", omittingEmptySubsequences: false)
        let nearby = [line - 1, line].filter { $0 >= 1 && $0 <= lines.count }.map { lines[$0 - 1] }
        if nearby.contains(where: { $0.prefix { $0 == " " || $0 == "\t" }.contains("\t") }) {
            return "YAML indents with spaces, not tabs: replace the tabs with spaces"
        }
        return "check the indentation, colons and quotes on this line and the line before it"
    }

    private static func lineAndColumn(ofCharacterOffset offset: Int, in text: String) -> (line: Int, column: Int) {
        var line = 1
        var column = 1
        for character in text.prefix(offset) {
            if character == "\n" || character == "\r\n" {
                line += 1
                column = 1
            } else {
                column += 1
            }
        }
        return (line, column)
    }
}
