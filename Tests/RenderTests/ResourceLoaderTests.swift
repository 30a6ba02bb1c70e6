import Foundation
import Render
import Templates
import Testing
import Primitives

/// confd resource files: `[template]` tables parsed by TOMLKit, and their problems located by file and line.
@Suite struct ResourceLoaderTests {
    let templates = "/etc/confd/templates"

    func parse(_ text: String, file: String = "/etc/confd/conf.d/haproxy.toml") throws(ConfdirError) -> TemplateResource {
        try ResourceLoader.parse(text, file: file, templatesFolder: templates)
    }

    func problems(_ text: String) -> [ResourceProblem] {
        do {
            _ = try parse(text)
            return []
        } catch {
            return error.problems
        }
    }

    @Test func everyKeyOfATemplateTable() throws {
        let resource = try parse("""
            [template]
            src = "haproxy.cfg.tmpl"
            dest = "/etc/haproxy/haproxy.cfg"
            prefix = "production/"
            keys = ["/app/servers", "/hecd/haproxy"]
            mode = "0640"
            uid = 0
            gid = 0
            check_cmd = "haproxy -c -f {{.src}}"
            reload_cmd = "systemctl reload haproxy"
            """)
        #expect(resource.source == "haproxy.cfg.tmpl")
        #expect(resource.sourcePath == "/etc/confd/templates/haproxy.cfg.tmpl")
        #expect(resource.destination == "/etc/haproxy/haproxy.cfg")
        #expect(resource.prefix == "/production")
        #expect(resource.keys == ["/app/servers", "/hecd/haproxy"])
        #expect(resource.etcdKeys == ["/production/app/servers", "/production/hecd/haproxy"])
        #expect(resource.mode == 0o640)
        #expect(resource.uid == 0 && resource.gid == 0)
        #expect(resource.checkCommand == "haproxy -c -f {{.src}}")
        #expect(resource.reloadCommand == "systemctl reload haproxy")
        #expect(resource.name == "haproxy.toml")
    }

    @Test func renderBudgets() throws {
        let base = "[template]\nsrc = \"x.tmpl\"\ndest = \"/x\"\nkeys = [\"/x\"]\n"
        #expect(try parse(base).limits == RenderLimits())
        #expect(try parse(base).limits.maxOutputBytes == 64 << 20)
        let set = try parse(base + "max_output = \"512KB\"\nmax_steps = 2000\n")
        #expect(set.limits == RenderLimits(maxOutputBytes: 512 << 10, maxSteps: 2000))
        #expect(try parse(base + "max_output = 4096\n").limits.maxOutputBytes == 4096)
        #expect(problems(base + "max_output = \"lots\"\n").map(\.description) == [
            "/etc/confd/conf.d/haproxy.toml:5: max_output must be a size in bytes such as 67108864 or \"64MB\" (KB, MB, GB), more than 0",
        ])
        #expect(problems(base + "max_steps = 0\n").first?.line == 5)
    }

    @Test func theSeedArticlesResourceFile() throws {
        let text = try Fixtures.text("seed/conf.d/haproxy.toml")
        let resource = try parse(text)
        #expect(resource.keys == ["/app/servers"])
        #expect(resource.prefix == "/")
        #expect(resource.destination == "/etc/haproxy/haproxy.cfg")
        #expect(resource.reloadCommand == "/etc/init.d/haproxy reload")
        #expect(resource.checkCommand == nil)
        #expect(resource.mode == nil && resource.uid == nil && resource.gid == nil)
    }

    @Test func invalidTOMLNamesFileLineAndColumn() {
        let found = problems("""
            [template]
            src = "haproxy.cfg.tmpl"
            dest = "/etc/haproxy/haproxy.cfg
            keys = ["/app/servers"]
            """)
        #expect(found.count == 1)
        let problem = found.first
        #expect(problem?.file == "/etc/confd/conf.d/haproxy.toml")
        #expect(problem?.line == 3)
        #expect(problem?.description.hasPrefix("/etc/confd/conf.d/haproxy.toml:3:") == true)
        #expect(problem?.message.contains("invalid TOML") == true)
    }

    @Test func unknownKeyNamesFileKeyLineAndSuggestion() {
        let found = problems("""
            # a comment
            [template]
            src = "haproxy.cfg.tmpl"
            dest = "/etc/haproxy/haproxy.cfg"
            keys = ["/app/servers"]
            reload_command = "true"
            """)
        #expect(found.count == 1)
        #expect(found.first?.line == 6)
        #expect(found.first?.message.contains("unknown key reload_command in [template]") == true)
        #expect(found.first?.message.contains("did you mean reload_cmd?") == true)
        #expect(found.first?.description.hasPrefix("/etc/confd/conf.d/haproxy.toml:6: ") == true)
    }

    @Test func unknownTablesAndMissingTemplate() {
        let found = problems("""
            [templat]
            src = "x"
            """)
        #expect(found.contains { $0.message.contains("unknown table [templat]") && $0.line == 1 })
        #expect(found.contains { $0.message.contains("no [template] table") })
    }

    @Test func missingRequiredKeys() {
        let found = problems("""
            [template]
            mode = "0644"
            """)
        let messages = found.map(\.message)
        #expect(messages.contains { $0.contains("needs src") })
        #expect(messages.contains { $0.contains("needs dest") })
        #expect(messages.contains { $0.contains("needs keys") })
        #expect(found.allSatisfy { $0.line == 1 })
    }

    @Test func wrongTypesAreLocated() {
        let found = problems("""
            [template]
            src = "a.tmpl"
            dest = "relative/path"
            keys = "/app/servers"
            mode = 644
            uid = "root"
            """)
        #expect(found.contains { $0.line == 3 && $0.message.contains("absolute path") })
        #expect(found.contains { $0.line == 4 && $0.message.contains("keys must be a list of strings") })
        #expect(found.contains { $0.line == 5 && $0.message.contains("mode must be a string of octal digits") })
        #expect(found.contains { $0.line == 6 && $0.message.contains("uid must be an integer") })
    }

    @Test func modeIsOctal() throws {
        let base = "[template]\nsrc = \"a\"\ndest = \"/a\"\nkeys = [\"/a\"]\n"
        #expect(try parse(base + "mode = \"0644\"").mode == 0o644)
        #expect(try parse(base + "mode = \"755\"").mode == 0o755)
        #expect(try parse(base + "mode = \"0o600\"").mode == 0o600)
        #expect(problems(base + "mode = \"0999\"").first?.message.contains("not an octal permission") == true)
        #expect(problems(base + "keys2 = []").first?.line == 5)
    }

    @Test func ownerByName() throws {
        let base = "[template]\nsrc = \"a\"\ndest = \"/a\"\nkeys = [\"/a\"]\n"
        let resource = try parse(base + "owner = \"root:root\"")
        #expect(resource.uid == 0 && resource.gid == 0)
        #expect(try parse(base + "owner = \"root\"").gid == 0)
        #expect(problems(base + "owner = \"no-such-user-hecd\"").first?.message.contains("no user no-such-user-hecd") == true)
        #expect(problems(base + "owner = \"root\"\nuid = 0").first?.message.contains("either owner or uid/gid") == true)
    }

    /// confd's `group` key: the destination's group by name or number, next to uid or owner.
    @Test func groupByNameOrNumber() throws {
        let base = "[template]\nsrc = \"a.tmpl\"\ndest = \"/tmp/a\"\nkeys = [\"/a\"]\n"
        #expect(try parse(base + "group = \"root\"").gid == 0)
        #expect(try parse(base + "group = \"0\"\nuid = 0").gid == 0)
        #expect(try parse(base + "owner = \"root\"\ngroup = \"0\"").uid == 0)
        #expect(problems(base + "group = \"no-such-group-hecd\"").first?.message.contains("no group no-such-group-hecd") == true)
        #expect(problems(base + "group = \"root\"\ngid = 0").first?.message.contains("either group or gid") == true)
    }

    @Test func aConfdirIsLoadedWholeAndEveryProblemReported() async throws {
        try await withTemporaryFolder { folder in
            let confdir = try makeConfdir(
                in: folder,
                resources: [
                    "a.toml": "[template]\nsrc = \"a.tmpl\"\ndest = \"/x/a\"\nkeys = [\"/a\"]\n",
                    "b.toml": "[template]\nsrc = \"missing.tmpl\"\ndest = \"/x/b\"\nkeys = [\"/b\"]\n",
                    "c.toml": "[template]\nsrc = \"a.tmpl\"\ndest = \"/x/c\"\nkeys = [\"/c\"]\nbogus = 1\n",
                    "d.toml": "[template]\nsrc = \"a.tmpl\"\ndest = \"/x/a\"\nkeys = [\"/d\"]\n",
                    ".hidden.toml": "not toml at all [",
                    "notes.txt": "ignored",
                ],
                templates: ["a.tmpl": "{{getv \"/a\"}}"])
            do {
                _ = try ResourceLoader.load(confdir: confdir)
                Issue.record("a confdir with problems loaded")
            } catch let error as ConfdirError {
                let text = error.description
                #expect(text.contains("b.toml:2: src: template \(confdir)/templates/missing.tmpl does not exist"))
                #expect(text.contains("c.toml:5: unknown key bogus in [template]"))
                #expect(text.contains("d.toml: dest /x/a is also written by a.toml"))
                #expect(error.problems.count == 3)
            }
            try FileManager.default.removeItem(atPath: confdir + "/conf.d/b.toml")
            try FileManager.default.removeItem(atPath: confdir + "/conf.d/c.toml")
            try FileManager.default.removeItem(atPath: confdir + "/conf.d/d.toml")
            let resources = try ResourceLoader.load(confdir: confdir)
            #expect(resources.map(\.name) == ["a.toml"])
        }
    }

    @Test func templateSyntaxErrorsNameTheTemplateFileAndLine() async throws {
        try await withTemporaryFolder { folder in
            let confdir = try makeConfdir(
                in: folder,
                resources: ["a.toml": "[template]\nsrc = \"a.tmpl\"\ndest = \"/x/a\"\nkeys = [\"/a\"]\n"],
                templates: ["a.tmpl": "line one\n{{range gets \"/a/*\"}}\nno end\n"])
            do {
                _ = try CompiledResource.load(confdir: confdir)
                Issue.record("a broken template loaded")
            } catch let error as ConfdirError {
                #expect(error.problems.count == 1)
                #expect(error.problems.first?.file == confdir + "/templates/a.tmpl")
                #expect(error.problems.first?.line != nil)
            }
        }
    }

    @Test func anEmptyOrMissingConfdirIsAnError() async throws {
        try await withTemporaryFolder { folder in
            #expect(throws: ConfdirError.self) { try ResourceLoader.load(confdir: folder.file("nothing")) }
            try FileManager.default.createDirectory(atPath: folder.file("conf.d"), withIntermediateDirectories: true)
            do {
                _ = try ResourceLoader.load(confdir: folder.path)
                Issue.record("an empty confdir loaded")
            } catch let error as ConfdirError {
                #expect(error.description.contains("no template resources"))
            }
        }
    }

    @Test func theDeployedConfdirsLoad() throws {
        for name in ["haproxy", "haproxy-apps", "nginx"] {
            let compiled = try CompiledResource.load(confdir: Fixtures.deployConfd + "/" + name)
            #expect(compiled.count == 1)
            #expect(compiled.first?.resource.checkCommand?.contains("{{.src}}") == true)
            #expect(compiled.first?.resource.reloadCommand != nil)
        }
    }

    /// toml++ (in TOMLKit) aborts on some malformed TOML; such text is refused before it, with its place.
    @Test func textTOMLKitWouldAbortOnIsAProblemWithLineAndColumn() {
        let cases: [(text: String, line: Int, column: Int)] = [
            ("[[[1]]]\n", 1, 3),
            ("[template]\n[ [a]]\n", 2, 3),
            ("[template]\nsrc = 1979-05-27T)7:32:00Z\n", 2, 7),
            ("[template]\nsrc = {a = 1}\n", 2, 7),
            ("[template]\nsrc = \"open\n", 2, 7),
        ]
        for (text, line, column) in cases {
            let found = problems(text)
            #expect(found.count == 1, "\(text)")
            #expect(found.first?.line == line && found.first?.column == column, "\(text): \(found)")
            #expect(found.first?.message.hasPrefix("invalid TOML: ") == true)
        }
    }

    /// Everything a resource file is written with passes the check before TOMLKit as it did.
    @Test func theTOMLThatResourcesUsePassesTheCheck() throws {
        let resource = try parse("""
            # comment
            [ template ] # a table
            src = 'a.tmpl'
            "dest" = "/etc/a \\"quoted\\" \\u00e9"
            prefix = "/p"
            keys = [
              "/app/servers", # the servers
              '/hecd/haproxy',
            ]
            uid = 0x10
            gid = 1_000
            max_steps = +5
            haproxy_runtime_api = true
            check_cmd = \"\"\"
            [ -f "{{.src}}" ] && [[ x == x ]] # not a header
            \"\"\"
            reload_cmd = '''
            [[[ also not a header ]]]'''
            """)
        #expect(resource.destination == "/etc/a \"quoted\" é")
        #expect(resource.keys == ["/app/servers", "/hecd/haproxy"])
        #expect(resource.uid == 16 && resource.gid == 1000 && resource.limits.maxSteps == 5)
        #expect(resource.checkCommand?.contains("[[ x == x ]]") == true)
        #expect(resource.reloadCommand == "[[[ also not a header ]]]")
        #expect(try parse("template.src = \"a\"\ntemplate . dest = \"/a\"\n'template'.keys = [\"/a\"]\n").source == "a")
        for folder in ["haproxy", "haproxy-apps", "nginx"] {
            let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
                .deletingLastPathComponent().appendingPathComponent("Deploy/confd/\(folder)/conf.d")
            for name in try FileManager.default.contentsOfDirectory(atPath: url.path) where name.hasSuffix(".toml") {
                let text = try String(contentsOf: url.appendingPathComponent(name), encoding: .utf8)
                #expect(throws: Never.self, "Deploy/confd/\(folder)/conf.d/\(name)") { try parse(text) }
            }
        }
    }
}
