/// One thing wrong in a file a user wrote (a manifest, a confd resource, a template): where it is and what to
/// do about it, printed as `file:line:column: field: message`, leaving out the parts that are not known.
public struct SourceProblem: Error, Sendable, Hashable, CustomStringConvertible {
    /// The file's path as given, or the directory when it cannot be read.
    public var file: String
    /// 1-based line, when the problem has a place in the file.
    public var line: Int?
    /// 1-based column (in Unicode scalars), when known; printed only with a line.
    public var column: Int?
    /// The field path, e.g. `register.prefix`, `env.GREETING` or `command[2]`.
    public var field: String?
    /// What is wrong and how to fix it. When `field` is set it reads on from the field's name.
    public var message: String

    public init(file: String, line: Int? = nil, column: Int? = nil, field: String? = nil, message: String) {
        self.file = file
        self.line = line
        self.column = column
        self.field = field
        self.message = message
    }

    public var description: String {
        var text = file
        if let line {
            text += ":\(line)"
            if let column { text += ":\(column)" }
        }
        text += ": "
        if let field { text += "\(field): " }
        return text + message
    }
}
