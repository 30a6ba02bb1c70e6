/// Builds the AST from tokens with Go's grammar, scoping rules and error checks.
///
/// Checked at parse time, as Go does: unknown functions, undefined variables, `{{break}}`/`{{continue}}` outside
/// `{{range}}`, unbalanced `{{end}}`/`{{else}}`, `{{define}}` outside the top level, duplicate definitions.
struct Parser {
    struct Result {
        var main: [Node]
        var defined: [String: [Node]]
    }

    private enum Terminator {
        case end(offset: Int)
        /// `{{else}}`; `chained` is the `if`/`with` keyword of `{{else if}}`/`{{else with}}`, left unconsumed.
        case elseBranch(offset: Int, chained: Keyword?)
        case endOfInput(offset: Int)
    }

    private struct OpenBlock {
        var keyword: Keyword
        var line: Int
    }

    private let name: String
    private let tokens: [Token]
    private let lineStarts: [Int]
    private let functionNames: Set<String>
    private var index = 0
    private var variables: [String] = ["$"]
    private var rangeDepth = 0
    private var defined: [String: [Node]] = [:]

    private init(name: String, text: String, functionNames: Set<String>) {
        let scalars = Array(text.unicodeScalars)
        var starts = [0]
        for (offset, scalar) in scalars.enumerated() where scalar == "\n" { starts.append(offset + 1) }
        self.name = name
        self.tokens = Lexer.tokenize(scalars)
        self.lineStarts = starts
        self.functionNames = functionNames
    }

    static func parse(name: String, text: String, functionNames: Set<String>) throws(TemplateError) -> Result {
        var parser = Parser(name: name, text: text, functionNames: functionNames)
        let (main, terminator) = try parser.parseList(open: nil)
        switch terminator {
        case .endOfInput:
            break
        case .end(let offset):
            throw parser.error(at: offset, "unexpected {{end}}; there is no {{if}}, {{range}}, {{with}}, {{define}} or {{block}} to close")
        case .elseBranch(let offset, _):
            throw parser.error(at: offset, "unexpected {{else}}; expected it inside {{if}}, {{range}} or {{with}}")
        }
        var defined = parser.defined
        if let existing = defined[name], !isEmptyTree(existing) {
            if !isEmptyTree(main) {
                throw parser.error(at: 0, "template: multiple definition of template \"\(name)\"")
            }
        } else {
            defined[name] = main
        }
        return Result(main: defined[name] ?? main, defined: defined)
    }

    // MARK: Lists

    /// Parses text and actions until `{{end}}`, `{{else}}` or the end of the text.
    private mutating func parseList(open: OpenBlock?) throws(TemplateError) -> ([Node], Terminator) {
        var nodes: [Node] = []
        while true {
            let token = try next()
            switch token.kind {
            case .text(let text):
                nodes.append(.text(text))
            case .eof:
                return (nodes, .endOfInput(offset: token.offset))
            case .leftDelim:
                let save = index
                let keyword = try nextNonSpace()
                switch keyword.kind {
                case .keyword(.end):
                    try expectRightDelim(context: "end")
                    return (nodes, .end(offset: keyword.offset))
                case .keyword(.else):
                    if case .keyword(let chained) = try peekNonSpace().kind, chained == .if || chained == .with {
                        return (nodes, .elseBranch(offset: keyword.offset, chained: chained))
                    }
                    try expectRightDelim(context: "else")
                    return (nodes, .elseBranch(offset: keyword.offset, chained: nil))
                case .keyword(.define):
                    if let open {
                        throw error(at: keyword.offset, "unexpected {{define}} inside {{\(open.keyword.rawValue)}} from line \(open.line); {{define}} is only allowed at the top level")
                    }
                    try parseDefinition(keyword)
                default:
                    index = save
                    nodes.append(try action())
                }
            default:
                throw unexpected(token, in: "input")
            }
        }
    }

    private mutating func parseDefinition(_ keyword: Token) throws(TemplateError) {
        let nameToken = try nextNonSpace()
        let definedName = try templateName(nameToken, context: "define clause")
        try expectRightDelim(context: "define clause")
        let body = try parseBody(of: OpenBlock(keyword: .define, line: line(of: keyword.offset)))
        try addDefinition(definedName, body, at: keyword.offset)
    }

    /// The body of a `{{define}}` or `{{block}}`: its own variables, outside any `{{range}}`.
    private mutating func parseBody(of open: OpenBlock) throws(TemplateError) -> [Node] {
        let savedVariables = variables
        let savedRangeDepth = rangeDepth
        variables = ["$"]
        rangeDepth = 0
        let (body, terminator) = try parseList(open: open)
        variables = savedVariables
        rangeDepth = savedRangeDepth
        switch terminator {
        case .end:
            return body
        case .elseBranch(let offset, _):
            throw error(at: offset, "unexpected {{else}}; expected {{end}} to close {{\(open.keyword.rawValue)}} from line \(open.line)")
        case .endOfInput(let offset):
            throw unclosed(open, at: offset)
        }
    }

    private mutating func addDefinition(_ definedName: String, _ body: [Node], at offset: Int) throws(TemplateError) {
        if let existing = defined[definedName], !Self.isEmptyTree(existing) {
            if Self.isEmptyTree(body) { return }
            throw error(at: offset, "template: multiple definition of template \"\(definedName)\"")
        }
        defined[definedName] = body
    }

    /// Go's IsEmptyTree: nothing but whitespace text.
    private static func isEmptyTree(_ nodes: [Node]) -> Bool {
        nodes.allSatisfy { node in
            if case .text(let text) = node { return text.unicodeScalars.allSatisfy(isSpace) }
            return false
        }
    }

    // MARK: Actions

    private mutating func action() throws(TemplateError) -> Node {
        let save = index
        let token = try nextNonSpace()
        switch token.kind {
        case .keyword(.block):
            return try blockControl(token)
        case .keyword(let keyword) where keyword == .break || keyword == .continue:
            let close = try nextNonSpace()
            guard close.kind == .rightDelim else { throw unexpected(close, in: "{{\(keyword.rawValue)}}") }
            guard rangeDepth > 0 else {
                throw error(at: token.offset, "{{\(keyword.rawValue)}} outside {{range}}")
            }
            return keyword == .break ? .breakLoop : .continueLoop
        case .keyword(.if):
            let (pipe, list, elseList) = try control(.if, token)
            return .ifBlock(pipe, then: list, else: elseList)
        case .keyword(.with):
            let (pipe, list, elseList) = try control(.with, token)
            return .withBlock(pipe, then: list, else: elseList)
        case .keyword(.range):
            let (pipe, list, elseList) = try control(.range, token)
            return .rangeBlock(pipe, body: list, else: elseList)
        case .keyword(.template):
            return try templateControl(token)
        default:
            index = save
            return .action(try pipeline(context: "command", end: .rightDelim))
        }
    }

    /// `if`, `with`, `range`: pipeline, body, optional else (with `else if`/`else with` chains).
    private mutating func control(_ keyword: Keyword, _ token: Token) throws(TemplateError) -> (Pipeline, [Node], [Node]?) {
        let savedVariableCount = variables.count
        defer { variables.removeSubrange(savedVariableCount...) }
        let open = OpenBlock(keyword: keyword, line: line(of: token.offset))
        let pipe = try pipeline(context: keyword.rawValue, end: .rightDelim)
        if keyword == .range { rangeDepth += 1 }
        let (list, terminator) = try parseList(open: open)
        if keyword == .range { rangeDepth -= 1 }
        switch terminator {
        case .end:
            return (pipe, list, nil)
        case .endOfInput(let offset):
            throw unclosed(open, at: offset)
        case .elseBranch(let offset, let chained?):
            guard chained == keyword else {
                throw error(at: offset, "unexpected {{else \(chained.rawValue)}} in {{\(keyword.rawValue)}} from line \(open.line); expected {{else}} or {{end}}")
            }
            let chainedToken = try next()
            let (elsePipe, elseBody, elseElse) = try control(chained, chainedToken)
            let nested: Node = chained == .if
                ? .ifBlock(elsePipe, then: elseBody, else: elseElse)
                : .withBlock(elsePipe, then: elseBody, else: elseElse)
            return (pipe, list, [nested])
        case .elseBranch:
            let (elseList, elseTerminator) = try parseList(open: open)
            switch elseTerminator {
            case .end:
                return (pipe, list, elseList)
            case .elseBranch(let offset, _):
                throw error(at: offset, "unexpected {{else}}; expected {{end}} to close {{\(keyword.rawValue)}} from line \(open.line), which already has an {{else}}")
            case .endOfInput(let offset):
                throw unclosed(open, at: offset)
            }
        }
    }

    private mutating func templateControl(_ token: Token) throws(TemplateError) -> Node {
        let nameToken = try nextNonSpace()
        let invoked = try templateName(nameToken, context: "template clause")
        var pipe: Pipeline?
        let save = index
        if try nextNonSpace().kind != .rightDelim {
            index = save
            pipe = try pipeline(context: "template clause", end: .rightDelim)
        }
        return .template(name: invoked, pipe, position(token.offset))
    }

    private mutating func blockControl(_ token: Token) throws(TemplateError) -> Node {
        let nameToken = try nextNonSpace()
        let blockName = try templateName(nameToken, context: "block clause")
        let pipe = try pipeline(context: "block clause", end: .rightDelim)
        let body = try parseBody(of: OpenBlock(keyword: .block, line: line(of: token.offset)))
        try addDefinition(blockName, body, at: token.offset)
        return .template(name: blockName, pipe, position(token.offset))
    }

    private func templateName(_ token: Token, context: String) throws(TemplateError) -> String {
        switch token.kind {
        case .string(let text), .rawString(let text):
            do {
                return try GoQuote.unquote(text)
            } catch {
                throw self.error(at: token.offset, error.message)
            }
        default:
            throw self.error(at: token.offset, "unexpected \(describe(token)) in \(context); expected a quoted template name")
        }
    }

    // MARK: Pipelines

    private mutating func pipeline(context: String, end: TokenKind) throws(TemplateError) -> Pipeline {
        var pipe = Pipeline(position: position(try peekNonSpace().offset))
        declarations: while true {
            let save = index
            let variable = try nextNonSpace()
            guard case .variable(let variableName) = variable.kind else {
                index = save
                break
            }
            let next = try nextNonSpace()
            switch next.kind {
            case .declare, .assign:
                pipe.isAssignment = next.kind == .assign
                pipe.declarations.append(variableName)
                variables.append(variableName)
                break declarations
            case .char(","):
                pipe.declarations.append(variableName)
                variables.append(variableName)
                if context == "range", pipe.declarations.count < 2 {
                    switch try peekNonSpace().kind {
                    case .variable, .rightDelim, .rightParen:
                        continue declarations
                    default:
                        throw error(at: next.offset, "range can only initialize variables")
                    }
                }
                throw error(at: next.offset, "too many declarations in \(context)")
            default:
                index = save
                break declarations
            }
        }
        while true {
            let token = try nextNonSpace()
            if token.kind == end {
                try checkPipeline(pipe, context: context, at: token.offset)
                return pipe
            }
            switch token.kind {
            case .bool, .charConstant, .dot, .field, .identifier, .number, .nilValue, .rawString, .string, .variable,
                .leftParen:
                index -= 1
                pipe.commands.append(try command())
            default:
                throw unexpected(token, in: context)
            }
        }
    }

    private func checkPipeline(_ pipe: Pipeline, context: String, at offset: Int) throws(TemplateError) {
        guard !pipe.commands.isEmpty else {
            throw error(at: offset, "missing value for \(context)")
        }
        for (stage, command) in pipe.commands.enumerated().dropFirst() {
            switch command.arguments.first {
            case .bool, .dot, .nilValue, .number, .string:
                throw error(command.position, "non executable command in pipeline stage \(stage + 1)")
            default:
                continue
            }
        }
    }

    private mutating func command() throws(TemplateError) -> Command {
        var command = Command(position: position(try peekNonSpace().offset))
        operands: while true {
            _ = try peekNonSpace()
            if let operand = try operand() { command.arguments.append(operand) }
            let token = try next()
            switch token.kind {
            case .space:
                continue
            case .rightDelim, .rightParen:
                index -= 1
                break operands
            case .pipe:
                break operands
            default:
                throw unexpected(token, in: "operand")
            }
        }
        if command.arguments.isEmpty {
            throw error(command.position, "empty command")
        }
        return command
    }

    private mutating func operand() throws(TemplateError) -> Argument? {
        guard let node = try term() else { return nil }
        guard case .field = tokens[index].kind else { return node }
        var fields: [String] = []
        while case .field(let field) = tokens[index].kind {
            fields.append(field)
            index += 1
        }
        switch node {
        case .field(let names, let p):
            return .field(names + fields, p)
        case .variable(let variableName, let existing, let p):
            return .variable(variableName, fields: existing + fields, p)
        case .bool, .string, .number, .nilValue, .dot:
            throw error(node.position, "unexpected . after term \(GoQuote.quote(node.sourceText))")
        default:
            return .chain(node, fields: fields, node.position)
        }
    }

    private mutating func term() throws(TemplateError) -> Argument? {
        let token = try nextNonSpace()
        let p = position(token.offset)
        switch token.kind {
        case .identifier(let function):
            guard functionNames.contains(function) else {
                throw error(p, "function \"\(function)\" not defined")
            }
            return .function(function, p)
        case .dot:
            return .dot(p)
        case .nilValue:
            return .nilValue(p)
        case .variable(let variableName):
            guard variables.contains(variableName) else {
                throw error(p, "undefined variable \"\(variableName)\"")
            }
            return .variable(variableName, fields: [], p)
        case .field(let field):
            return .field([field], p)
        case .bool(let value):
            return .bool(value, p)
        case .number(let text), .charConstant(let text):
            do {
                return .number(try GoNumber.parse(text), p)
            } catch {
                throw self.error(p, error.message)
            }
        case .leftParen:
            return .pipeline(try pipeline(context: "parenthesized pipeline", end: .rightParen))
        case .string(let text), .rawString(let text):
            do {
                return .string(try GoQuote.unquote(text), p)
            } catch {
                throw self.error(p, error.message)
            }
        default:
            index -= 1
            return nil
        }
    }

    // MARK: Tokens

    private mutating func next() throws(TemplateError) -> Token {
        let token = tokens[index]
        if case .error(let message) = token.kind {
            throw error(at: token.offset, message)
        }
        if index < tokens.count - 1 { index += 1 }
        return token
    }

    private mutating func nextNonSpace() throws(TemplateError) -> Token {
        while true {
            let token = try next()
            if token.kind != .space { return token }
        }
    }

    /// Skips spaces and returns the next token without consuming it.
    private mutating func peekNonSpace() throws(TemplateError) -> Token {
        let token = try nextNonSpace()
        if token.kind != .eof { index -= 1 }
        return token
    }

    private mutating func expectRightDelim(context: String) throws(TemplateError) {
        let token = try nextNonSpace()
        guard token.kind == .rightDelim else { throw unexpected(token, in: context) }
    }

    // MARK: Errors and positions

    private func line(of offset: Int) -> Int { position(offset).line }

    private func position(_ offset: Int) -> SourcePosition {
        var low = 0
        var high = lineStarts.count
        while low + 1 < high {
            let middle = (low + high) / 2
            if lineStarts[middle] <= offset { low = middle } else { high = middle }
        }
        return SourcePosition(line: low + 1, column: offset - lineStarts[low] + 1)
    }

    private func error(at offset: Int, _ message: String) -> TemplateError {
        error(position(offset), message)
    }

    private func error(_ p: SourcePosition, _ message: String) -> TemplateError {
        TemplateError(templateName: name, line: p.line, column: p.column, message: message)
    }

    private func unclosed(_ open: OpenBlock, at offset: Int) -> TemplateError {
        error(at: offset, "unexpected end of input; expected {{end}} to close {{\(open.keyword.rawValue)}} from line \(open.line)")
    }

    private func unexpected(_ token: Token, in context: String) -> TemplateError {
        if token.kind == .eof {
            return error(at: token.offset, "unexpected end of input in \(context); expected }}")
        }
        return error(at: token.offset, "unexpected \(describe(token)) in \(context)")
    }

    private func describe(_ token: Token) -> String {
        switch token.kind {
        case .text: return "text"
        case .leftDelim: return "\"{{\""
        case .rightDelim: return "\"}}\""
        case .space: return "space"
        case .identifier(let text): return GoQuote.quote(text)
        case .keyword(let keyword): return "{{\(keyword.rawValue)}}"
        case .field(let text): return GoQuote.quote("." + text)
        case .variable(let text): return GoQuote.quote(text)
        case .dot: return "\".\""
        case .bool(let value): return value ? "true" : "false"
        case .nilValue: return "nil"
        case .number(let text), .charConstant(let text), .string(let text), .rawString(let text): return text
        case .pipe: return "\"|\""
        case .leftParen: return "\"(\""
        case .rightParen: return "\")\""
        case .declare: return "\":=\""
        case .assign: return "\"=\""
        case .char(let c): return GoQuote.quote(String(c))
        case .error(let message): return message
        case .eof: return "end of input"
        }
    }
}
