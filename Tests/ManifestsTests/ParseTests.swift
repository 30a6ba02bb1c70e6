import Manifests
import Testing
import Primitives

@Suite struct ValidManifestTests {
    @Test func fullManifest() throws {
        let file = parse("""
            # Every field.
            name: web
            image: demo-web:1
            replicas: 3
            port: 8080
            command: ["/bin/httpd", "-f", "-p", "8080"]
            env:
              GREETING: hello
              PORT: 8080
              DEBUG: yes
              RATIO: 0.5
              EMPTY: ""
            labels: {team: web, com.example.tier: front}
            stop_timeout: 30
            register:
              prefix: /app/servers
              drain: 2.5
            health:
              http: /healthz
            """)
        let spec = try #require(file.spec)
        #expect(spec == AppSpec(
            name: "web", image: "demo-web:1", replicas: 3, port: 8080,
            command: ["/bin/httpd", "-f", "-p", "8080"],
            env: ["GREETING": "hello", "PORT": "8080", "DEBUG": "yes", "RATIO": "0.5", "EMPTY": ""],
            labels: ["team": "web", "com.example.tier": "front"],
            stopTimeout: 30,
            register: Registration(prefix: "/app/servers", drainSeconds: 2.5),
            health: HealthCheck(http: "/healthz")
        ))
        #expect(file.declaredName == "web")
        #expect(file.path == "Manifests/web.yaml")
        #expect(file.problems.isEmpty)
    }

    @Test func defaults() throws {
        let spec = try #require(parse("name: web\nimage: hecd-demo:1\nreplicas: 0\n").spec)
        #expect(spec.replicas == 0)
        #expect(spec.port == nil)
        #expect(spec.command == nil)
        #expect(spec.env.isEmpty)
        #expect(spec.labels.isEmpty)
        #expect(spec.stopTimeout == AppSpec.defaultStopTimeout)
        #expect(spec.register == Registration())
        #expect(spec.health == nil)
    }

    @Test func emptyOptionalMappingsMeanDefaults() throws {
        let spec = try #require(parse(manifest("env:\nlabels: {}\nregister:\nhealth:\n")).spec)
        #expect(spec.env.isEmpty)
        #expect(spec.labels.isEmpty)
        #expect(spec.register == Registration())
        #expect(spec.health == nil)
    }

    @Test func integerDrainAndNamesWithPunctuation() throws {
        let spec = try #require(parse("name: my-app_2.v1\nimage: registry.local:5000/team/app@sha256:abc\n"
            + "replicas: 1000\nregister: {drain: 3}\n").spec)
        #expect(spec.name == "my-app_2.v1")
        #expect(spec.image == "registry.local:5000/team/app@sha256:abc")
        #expect(spec.replicas == 1000)
        #expect(spec.register.drainSeconds == 3)
    }

    @Test func windowsLineEndings() throws {
        let spec = try #require(parse("name: web\r\nimage: hecd-demo:1\r\nreplicas: 2\r\n").spec)
        #expect(spec.replicas == 2)
    }

    @Test func byteOrderMarkIsIgnored() throws {
        let spec = try #require(parse("\u{FEFF}name: web\nimage: hecd-demo:1\nreplicas: 2\n").spec)
        #expect(spec.name == "web")
    }

    @Test func contentDigestFollowsTheText() {
        let one = parse(manifest())
        let same = parse(manifest())
        let other = parse(manifest("port: 80\n"))
        #expect(one.contentDigest == same.contentDigest)
        #expect(one.contentDigest != other.contentDigest)
    }
}

@Suite struct FieldProblemTests {
    @Test func unknownFieldSuggestsTheClosestOne() {
        let found = problems("name: web\nimage: hecd-demo:1\nreplica: 3\n")
        #expect(found.count == 2)
        let typo = found.first { $0.field == "replica" }
        #expect(typo?.line == 3)
        #expect(typo?.message.contains("did you mean `replicas`?") == true)
        let missing = found.first { $0.field == "replicas" }
        #expect(missing?.line == 1)
        #expect(missing?.message.contains("is missing") == true)
    }

    @Test(arguments: [
        ("imgae: x", "image"), ("Stop-Timeout: 3", "stop_timeout"), ("stopTimeout: 3", "stop_timeout"),
        ("environment: {}", "env"), ("cmd: [a]", "command"), ("prot: 80", "port"), ("label: {}", "labels"),
    ])
    func typoSuggestions(line: String, suggestion: String) {
        let found = problem(manifest(line + "\n"))
        #expect(found?.line == 4)
        #expect(found?.message.contains("did you mean `\(suggestion)`?") == true)
    }

    @Test func unknownFieldWithoutCloseMatchListsTheFields() {
        let found = problem(manifest("colour: red\n"))
        #expect(found?.field == "colour")
        #expect(found?.line == 4)
        #expect(found?.message.contains("`stop_timeout`") == true)
        #expect(found?.message.contains("did you mean") == false)
    }

    @Test func mergeKeysAreRefused() {
        let found = problem(manifest("<<: {port: 80}\n"))
        #expect(found?.field == "<<")
        #expect(found?.line == 4)
        #expect(found?.message.contains("merge keys are not supported") == true)
    }

    @Test func unknownNestedField() {
        let found = problem(manifest("register:\n  prefx: /app\n"))
        #expect(found?.field == "register.prefx")
        #expect(found?.line == 5)
        #expect(found?.message.contains("did you mean `prefix`?") == true)
    }

    @Test func wrongTypeNamesWhatWasGiven() {
        let found = problem("name: web\nimage: hecd-demo:1\nreplicas: three\n")
        #expect(found?.field == "replicas")
        #expect(found?.line == 3)
        #expect(found?.column == 11)
        #expect(found?.message == "must be a whole number from 0 to 1000, e.g. `replicas: 3`; got the string \"three\"")
        #expect(found?.description
            == "Manifests/web.yaml:3:11: replicas: must be a whole number from 0 to 1000, e.g. `replicas: 3`; got the string \"three\"")
    }

    @Test func quotedNumberSaysToRemoveTheQuotes() {
        let found = problem(manifest("port: \"80\"\n"))
        #expect(found?.field == "port")
        #expect(found?.message.contains("remove the quotes") == true)
    }

    @Test(arguments: [
        ("replicas: -1", "replicas", "got -1"),
        ("replicas: 5000", "replicas", "got 5000"),
        ("replicas: 2.5", "replicas", "got the number 2.5"),
        ("replicas: 0x10", "replicas", "plain decimal"),
        ("replicas: 99999999999999999999999", "replicas", "got 99999999999999999999999"),
        ("replicas: [3]", "replicas", "got a list"),
        ("replicas: yes", "replicas", "true or false"),
        ("replicas:", "replicas", "has no value"),
    ])
    func badReplicas(line: String, field: String, detail: String) {
        let found = problem("name: web\nimage: hecd-demo:1\n\(line)\n")
        #expect(found?.field == field)
        #expect(found?.line == 3)
        #expect(found?.message.contains(detail) == true, "\(found?.message ?? "")")
    }

    @Test(arguments: [
        ("port: 0", "port"), ("port: 65536", "port"), ("port: http", "port"), ("port:", "port"),
        ("stop_timeout: -1", "stop_timeout"), ("stop_timeout: 1.5", "stop_timeout"),
        ("register: {drain: -0.5}", "register.drain"), ("register: {drain: .inf}", "register.drain"),
        ("register: {drain: soon}", "register.drain"),
    ])
    func badNumbers(line: String, field: String) {
        let found = problem(manifest(line + "\n"))
        #expect(found?.field == field)
        #expect(found?.line == 4)
    }

    @Test func badNameIsReportedWithASuggestion() {
        let file = parse("image: hecd-demo:1\nreplicas: 1\nname: Web App\n")
        let found = file.problems
        #expect(found.count == 1)
        #expect(found.first?.field == "name")
        #expect(found.first?.line == 3)
        #expect(found.first?.message.contains("perhaps `name: web-app`") == true)
        #expect(file.declaredName == nil)
    }

    @Test(arguments: ["-web", "web/1", "wéb", "\"\"", String(repeating: "a", count: 64)])
    func invalidNames(name: String) {
        let found = problem("name: \(name)\nimage: hecd-demo:1\nreplicas: 1\n")
        #expect(found?.field == "name")
        #expect(found?.line == 1)
    }

    @Test func longestNameIsAccepted() {
        let name = String(repeating: "a", count: 63)
        #expect(parse("name: \(name)\nimage: hecd-demo:1\nreplicas: 1\n").spec?.name == name)
    }

    @Test(arguments: ["image: \"\"", "image: hecd demo:1", "image:", "image: {a: b}"])
    func badImages(line: String) {
        let found = problem("name: web\n\(line)\nreplicas: 1\n")
        #expect(found?.field == "image")
        #expect(found?.line == 2)
    }

    @Test func missingFieldsPointAtTheMapping() {
        let file = parse("# the web app\n\nname: web\nport: 80\n")
        let found = file.problems
        #expect(found.map(\.field) == ["image", "replicas"])
        #expect(found.allSatisfy { $0.line == 3 })
        #expect(found.first?.message == "is missing; add it, e.g. `image: hecd-demo:1`")
        #expect(file.declaredName == "web")
    }

    @Test func everyProblemInAFileIsReported() {
        let found = problems("""
            name: Web
            image: ""
            replicas: -2
            port: 0
            extra: 1
            """)
        #expect(found.map(\.field) == ["name", "image", "replicas", "port", "extra"])
        #expect(found.map(\.line) == [1, 2, 3, 4, 5])
    }

    @Test func commandProblems() {
        let asString = problem(manifest("command: /bin/httpd -f -p 80\n"))
        #expect(asString?.field == "command")
        #expect(asString?.line == 4)
        #expect(asString?.message.contains(#"`command: ["/bin/httpd", "-f", "-p", "80"]`"#) == true)

        let items = problems(manifest("command:\n  - /bin/httpd\n  - [a]\n  - ~\n"))
        #expect(items.map(\.field) == ["command[1]", "command[2]"])
        #expect(items.map(\.line) == [6, 7])

        let empty = problem(manifest("command: []\n"))
        #expect(empty?.field == "command")
        #expect(empty?.message.contains("empty list") == true)

        let emptyProgram = problem(manifest("command: [\"\", x]\n"))
        #expect(emptyProgram?.field == "command[0]")
    }

    @Test func envProblems() {
        let found = problems(manifest("env:\n  GOOD: 1\n  1BAD: x\n  LIST: [1]\n  NOTHING:\n  my-var: x\n"))
        #expect(found.map(\.field) == ["env.1BAD", "env.LIST", "env.NOTHING", "env.my-var"])
        #expect(found.map(\.line) == [6, 7, 8, 9])
        #expect(found.first?.message.contains("not a valid environment variable name") == true)

        let asList = problem(manifest("env:\n  - GREETING=hello\n"))
        #expect(asList?.field == "env")
        #expect(asList?.line == 4)
        #expect(asList?.message.contains("`NAME: value`") == true)
    }

    @Test func reservedLabels() {
        let found = problem(manifest("labels:\n  team: web\n  io.hecd.app: other\n"))
        #expect(found?.field == "labels.io.hecd.app")
        #expect(found?.line == 6)
        #expect(found?.message.contains("reserved") == true)
    }

    @Test(arguments: [
        ("app/servers", "must start with `/`"), ("/app/servers/", "must not end with `/`"),
        ("/app//servers", "must not contain `//`"), ("\"/app servers\"", "must not contain spaces"), ("/", "end with"),
    ])
    func badRegisterPrefixes(prefix: String, reason: String) {
        let found = problem(manifest("register:\n  prefix: \(prefix)\n"))
        #expect(found?.field == "register.prefix")
        #expect(found?.line == 5)
        #expect(found?.message.contains(reason) == true, "\(found?.message ?? "")")
    }

    @Test func registerMustBeAMapping() {
        let found = problem(manifest("register: /app/servers\n"))
        #expect(found?.field == "register")
        #expect(found?.line == 4)
    }

    @Test func healthProblems() {
        let missing = problems(manifest("health:\n  path: /healthz\n"))
        // A check without `http` or `tcp` connects to the registered port: only the unknown field is wrong.
        #expect(missing.map(\.field) == ["health.path"])
        #expect(missing.map(\.line) == [5])
        #expect(missing.last?.message.contains("did you mean `http`?") == true)

        let relative = problem(manifest("health:\n  http: healthz\n"))
        #expect(relative?.field == "health.http")
        #expect(relative?.line == 5)

        let asString = problem(manifest("health: /healthz\n"))
        #expect(asString?.field == "health")
        #expect(asString?.message.contains("`health: {http: /healthz}`") == true)
    }

    @Test func rootMustBeAMapping() {
        let found = problem("- name: web\n- name: api\n")
        #expect(found?.line == 1)
        #expect(found?.field == nil)
        #expect(found?.message.contains("a list") == true)
    }
}

@Suite struct DocumentProblemTests {
    @Test(arguments: ["", "\n\n", "# only a comment\n", "---\n", "~\n"])
    func emptyFile(text: String) {
        let file = parse(text)
        let found = file.problems
        #expect(found.count == 1)
        #expect(found.first?.message.contains("the file is empty") == true)
        #expect(found.first?.description.hasPrefix("Manifests/web.yaml: the file is empty") == true)
        #expect(file.declaredName == nil)
    }

    @Test func syntaxErrorHasLineAndColumn() {
        let file = parse("name: web\nimage: [hecd-demo:1\nreplicas: 3\n")
        let found = file.problems
        #expect(found.count == 1)
        #expect(found.first?.line == 3)
        #expect(found.first?.column != nil)
        #expect(found.first?.message.hasPrefix("YAML syntax error: ") == true)
        #expect(found.first?.message.contains("line 2") == true)
        #expect(file.declaredName == nil)
    }

    @Test func badIndentation() {
        let found = problem("name: web\nimage: hecd-demo:1\nreplicas: 3\n  port: 80\n")
        #expect(found?.line == 4)
        #expect(found?.message.hasPrefix("YAML syntax error: ") == true)
    }

    @Test func tabsAreExplained() {
        let found = problem("name: web\nimage: hecd-demo:1\n\treplicas: 3\n")
        #expect(found?.line == 3)
        #expect(found?.message.contains("not tabs") == true)
    }

    @Test func secondDocument() {
        let found = problem(manifest("---\nname: api\n"))
        #expect(found?.line == 4)
        #expect(found?.message.contains("file of its own") == true)
    }

    @Test func repeatedTopLevelKey() {
        let file = parse("name: web\nimage: hecd-demo:1\nreplicas: 3\nport: 80\nreplicas: 4\n")
        let found = file.problems
        #expect(found.count == 1)
        #expect(found.first?.field == "replicas")
        #expect(found.first?.line == 5)
        #expect(found.first?.message.contains("first on line 3") == true)
        #expect(file.declaredName == "web")
    }

    @Test func repeatedNestedKeysAlongsideOtherProblems() {
        let found = problems("""
            name: web
            image: hecd-demo:1
            replicas: many
            env:
              GREETING: hello
              OTHER: x
              GREETING: bye
            labels: {team: a, "team": b}
            register:
              prefix: /a
              drain: 1
              prefix: /b
            """)
        #expect(found.map(\.field) == ["replicas", "env.GREETING", "labels.team", "register.prefix"])
        #expect(found.map(\.line) == [3, 7, 8, 12])
        #expect(found[1].message.contains("first on line 5") == true)
        #expect(found[3].message.contains("first on line 10") == true)
    }

    @Test func repeatedKeysInFlowMappings() {
        // A quoted value holding the key's text is skipped; a mapping spread over lines is followed.
        let quoted = problem(manifest("env: {A: \"x, A: y\",\n  B: 2, A: 3}\n"))
        #expect(quoted?.field == "env.A")
        #expect(quoted?.line == 5)
        #expect(quoted?.message.contains("first on line 4") == true)

        let spread = problem(manifest("env: {\n  A: 1,\n  A: 2\n}\n"))
        #expect(spread?.field == "env.A")
        #expect(spread?.line == 6)
    }

    @Test func repeatedKeyThatCannotBeLocatedIsStillReported() {
        // Escaped keys do not match their text, so only the first occurrence's line is known.
        let file = parse(manifest(#"env: {"\u0041": 1, "\u0041": 2}"# + "\n"))
        let found = file.problems
        #expect(found.count == 1)
        #expect(found.first?.line == 4)
        #expect(found.first?.message.contains("`A` is written more than once") == true)
        #expect(file.declaredName == nil)
    }

    @Test func keyWrittenThreeTimes() {
        let found = problems(manifest("replicas: 2\nreplicas: 3\n"))
        #expect(found.map(\.field) == ["replicas", "replicas"])
        #expect(found.map(\.line) == [4, 5])
        #expect(found.allSatisfy { $0.message.contains("first on line 3") })
    }

    @Test func repeatedKeysInSequenceItemsAreNotConfused() {
        // The same key in two list items is no repeat; the search for the repeated `name` skips them.
        let found = problems("name: web\nimage: hecd-demo:1\nreplicas: 1\ncommand:\n  - a: 1\n  - a: 2\nname: web\n")
        #expect(found.map(\.field) == ["command[0]", "command[1]", "name"])
        #expect(found.map(\.line) == [5, 6, 7])
    }

    @Test func repeatedKeyWithWindowsLineEndings() {
        let found = problem("name: web\r\nimage: hecd-demo:1\r\nreplicas: 1\r\nimage: other\r\n")
        #expect(found?.field == "image")
        #expect(found?.line == 4)
    }
}

@Suite struct ProblemDescriptionTests {
    @Test func descriptionLeavesOutWhatIsUnknown() {
        #expect(ManifestProblem(file: "M/a.yaml", line: 3, field: "register.prefix", message: "must start with `/`")
            .description == "M/a.yaml:3: register.prefix: must start with `/`")
        #expect(ManifestProblem(file: "M/a.yaml", line: 2, message: "YAML syntax error: x").description
            == "M/a.yaml:2: YAML syntax error: x")
        #expect(ManifestProblem(file: "M", message: "cannot read").description == "M: cannot read")
    }

    @Test func fileErrorListsEveryProblem() {
        let error = ManifestFileError(problems: [
            ManifestProblem(file: "a", line: 1, message: "one"), ManifestProblem(file: "a", line: 2, message: "two"),
        ])
        #expect(error.description == "a:1: one\na:2: two")
    }
}
