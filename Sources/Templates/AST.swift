/// The parsed form of a template, shaped like Go's `text/template/parse` nodes.
indirect enum Node: Sendable {
    case text(String)
    /// `{{pipeline}}`: prints the value unless the pipeline declares or assigns variables.
    case action(Pipeline)
    case ifBlock(Pipeline, then: [Node], else: [Node]?)
    case withBlock(Pipeline, then: [Node], else: [Node]?)
    case rangeBlock(Pipeline, body: [Node], else: [Node]?)
    /// `{{template "name" pipeline}}` (also what `{{block}}` leaves in place).
    case template(name: String, Pipeline?, SourcePosition)
    case breakLoop
    case continueLoop
}

/// `$x := cmd1 arg | cmd2 | cmd3`.
struct Pipeline: Sendable {
    var position: SourcePosition
    /// Variables declared (`:=`) or assigned (`=`), including `$`-names in `range $i, $v :=`.
    var declarations: [String] = []
    var isAssignment = false
    var commands: [Command] = []
}

/// One stage of a pipeline: an operand followed by arguments.
struct Command: Sendable {
    var position: SourcePosition
    var arguments: [Argument] = []
}

indirect enum Argument: Sendable {
    /// `.a.b` (field names without dots).
    case field([String], SourcePosition)
    /// `$x.a.b`.
    case variable(String, fields: [String], SourcePosition)
    /// `(pipeline).a.b` or `function.Method`.
    case chain(Argument, fields: [String], SourcePosition)
    case function(String, SourcePosition)
    case dot(SourcePosition)
    case nilValue(SourcePosition)
    case bool(Bool, SourcePosition)
    case number(NumberLiteral, SourcePosition)
    case string(String, SourcePosition)
    case pipeline(Pipeline)

    var position: SourcePosition {
        switch self {
        case .field(_, let p), .variable(_, _, let p), .chain(_, _, let p), .function(_, let p), .dot(let p),
            .nilValue(let p), .bool(_, let p), .number(_, let p), .string(_, let p):
            return p
        case .pipeline(let pipe):
            return pipe.position
        }
    }

    /// Roughly the source form, for messages.
    var sourceText: String {
        switch self {
        case .field(let names, _): return names.map { "." + $0 }.joined()
        case .variable(let name, let fields, _): return name + fields.map { "." + $0 }.joined()
        case .chain(let base, let fields, _): return "(\(base.sourceText))" + fields.map { "." + $0 }.joined()
        case .function(let name, _): return name
        case .dot: return "."
        case .nilValue: return "nil"
        case .bool(let b, _): return b ? "true" : "false"
        case .number(let n, _): return n.text
        case .string(let s, _): return GoQuote.quote(s)
        case .pipeline: return "(…)"
        }
    }
}

/// A numeric constant with Go's "ideal constant" rules: `1` is an int, `1.0`/`1e3` a float64, `'a'` a rune (int).
struct NumberLiteral: Sendable {
    var text: String
    var value: TemplateValue
    /// The literal as an int when it is one exactly (`1.0`, `1e3`, `'a'`): Go's parser sets `IsInt` for these,
    /// so a float literal may be passed where a function wants an int (`add 1.0 1`, `seq 1.0 2`).
    var intValue: Int?

    init(text: String, value: TemplateValue) {
        self.text = text
        self.value = value
        switch value {
        case .int(let i): intValue = i
        case .double(let d) where d.rounded(.towardZero) == d && d >= -9.223372036854775808e18 && d < 9.223372036854775808e18:
            intValue = Int(d)
        default: intValue = nil
        }
    }
}
