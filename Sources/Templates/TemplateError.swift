import Primitives

/// A parse or execution error, located in the template text.
///
/// Prints as `haproxy.cfg.tmpl:12:5: unexpected {{end}}; …`; lines and columns count from 1 (columns in characters).
public struct TemplateError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The name the template was parsed under (typically its file name).
    public var templateName: String
    public var line: Int
    public var column: Int
    public var message: String

    public init(templateName: String, line: Int, column: Int, message: String) {
        self.templateName = templateName
        self.line = line
        self.column = column
        self.message = message
    }

    public var description: String {
        SourceProblem(file: templateName, line: line, column: column, message: message).description
    }
}

/// A place in the template text, 1-based.
struct SourcePosition: Sendable, Hashable {
    var line: Int
    var column: Int
}

/// An error raised by a function; the executor adds the function name and position.
struct FunctionError: Error {
    var message: String
    init(_ message: String) { self.message = message }
}
