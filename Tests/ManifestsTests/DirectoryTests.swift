import Foundation
import Manifests
import Testing
import Primitives

@Suite struct DirectoryLoaderTests {
    @Test func loadsManifestFilesSortedAndSkipsOthers() throws {
        try withTemporaryDirectory { directory in
            try write(manifest(name: "web"), to: "\(directory)/web.yaml")
            try write(manifest(name: "api"), to: "\(directory)/api.yml")
            // Not manifests: hidden, editor leftovers, other extensions, a directory.
            for ignored in [".hidden.yaml", ".#web.yaml", "web.yaml~", "#web.yaml#", "notes.txt", "web.yaml.bak", "README.md"] {
                try write("not: [valid", to: "\(directory)/\(ignored)")
            }
            try FileManager.default.createDirectory(atPath: "\(directory)/old.yaml", withIntermediateDirectories: false)

            let files = try ManifestLoader.loadDirectory(directory)
            #expect(files.map(\.path) == ["\(directory)/api.yml", "\(directory)/web.yaml"])
            #expect(files.map(\.spec?.name) == ["api", "web"])
            #expect(files.map(\.declaredName) == ["api", "web"])
        }
    }

    @Test func pathKeepsTheDirectoryAsGiven() throws {
        try withTemporaryDirectory { directory in
            try write(manifest(), to: "\(directory)/web.yaml")
            let files = try ManifestLoader.loadDirectory(directory + "/")
            #expect(files.map(\.path) == ["\(directory)/web.yaml"])
        }
    }

    @Test func emptyDirectoryHasNoFiles() throws {
        try withTemporaryDirectory { directory in
            let files = try ManifestLoader.loadDirectory(directory)
            #expect(files.isEmpty)
        }
    }

    @Test func laterDuplicateNameFailsAndPointsAtTheFirst() throws {
        try withTemporaryDirectory { directory in
            try write(manifest(name: "web"), to: "\(directory)/a.yaml")
            try write("# copy\n" + manifest(name: "web"), to: "\(directory)/b.yaml")
            try write(manifest(name: "api"), to: "\(directory)/c.yaml")

            let files = try ManifestLoader.loadDirectory(directory)
            #expect(files.count == 3)
            #expect(files[0].spec?.name == "web")
            #expect(files[2].spec?.name == "api")

            let duplicate = files[1]
            #expect(duplicate.spec == nil)
            #expect(duplicate.declaredName == "web")
            let found = duplicate.problems
            #expect(found.count == 1)
            #expect(found.first?.file == "\(directory)/b.yaml")
            #expect(found.first?.line == 2)
            #expect(found.first?.field == "name")
            #expect(found.first?.message.contains("\(directory)/a.yaml:1") == true)
        }
    }

    @Test func duplicateOfAnInvalidFileStillCounts() throws {
        try withTemporaryDirectory { directory in
            // The first file is broken but clearly declares `web`; the second may not take the name over.
            try write("name: web\nimage: hecd-demo:1\nreplicas: lots\n", to: "\(directory)/a.yaml")
            try write(manifest(name: "web", "port: 0\n"), to: "\(directory)/b.yaml")

            let files = try ManifestLoader.loadDirectory(directory)
            #expect(files.map(\.declaredName) == ["web", "web"])
            #expect(files[0].problems.map(\.field) == ["replicas"])
            #expect(files[1].problems.map(\.field) == ["name", "port"])
        }
    }

    @Test func unreadableFilesFailOnTheirOwn() throws {
        try withTemporaryDirectory { directory in
            try Data([0x6e, 0x61, 0x6d, 0x65, 0x3a, 0x20, 0xff, 0xfe]).write(to: URL(fileURLWithPath: "\(directory)/bad.yaml"))
            try FileManager.default.createSymbolicLink(atPath: "\(directory)/gone.yaml", withDestinationPath: "\(directory)/nowhere")
            try FileManager.default.createSymbolicLink(atPath: "\(directory)/null.yaml", withDestinationPath: "/dev/null")
            try write(manifest(), to: "\(directory)/web.yaml")

            let files = try ManifestLoader.loadDirectory(directory)
            #expect(files.map(\.path) == ["bad.yaml", "gone.yaml", "null.yaml", "web.yaml"].map { "\(directory)/\($0)" })
            #expect(files[0].problems.first?.message.contains("UTF-8") == true)
            #expect(files[1].problems.first?.message.contains("target does not exist") == true)
            #expect(files[2].problems.first?.message.contains("not a regular file") == true)
            #expect(files[3].spec != nil)
            #expect(files.allSatisfy { $0.problems.allSatisfy { $0.line == nil } })
        }
    }

    @Test func missingDirectoryThrowsSayingWhichAndWhy() throws {
        try withTemporaryDirectory { directory in
            let missing = "\(directory)/nope"
            let error = try #require(throws: ManifestProblem.self) { try ManifestLoader.loadDirectory(missing) }
            #expect(error.file == missing)
            #expect(error.description.hasPrefix(missing + ": cannot read the manifest directory"))
            #expect(error.message.contains("does not exist"))
        }
    }

    @Test func fileInsteadOfDirectoryThrows() throws {
        try withTemporaryDirectory { directory in
            let file = "\(directory)/web.yaml"
            try write(manifest(), to: file)
            let error = try #require(throws: ManifestProblem.self) { try ManifestLoader.loadDirectory(file) }
            #expect(error.file == file)
            #expect(error.message.contains("not a directory"))
        }
    }

    @Test(.enabled(if: getuid() != 0, "root reads any directory"))
    func directoryWithoutPermissionThrows() throws {
        try withTemporaryDirectory { directory in
            let locked = "\(directory)/locked"
            try FileManager.default.createDirectory(atPath: locked, withIntermediateDirectories: false)
            try FileManager.default.setAttributes([.posixPermissions: 0o000], ofItemAtPath: locked)
            defer { try? FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: locked) }
            let error = try #require(throws: ManifestProblem.self) { try ManifestLoader.loadDirectory(locked) }
            #expect(error.file == locked)
            #expect(error.message.contains("cannot read the manifest directory"))
        }
    }

    @Test func digestMatchesParseAndChangesWithContent() throws {
        try withTemporaryDirectory { directory in
            let path = "\(directory)/web.yaml"
            try write(manifest(), to: path)
            let first = try #require(try ManifestLoader.loadDirectory(directory).first)
            #expect(first.contentDigest == ManifestLoader.parse(manifest(), path: path).contentDigest)

            try write(manifest("port: 80\n"), to: path)
            let second = try #require(try ManifestLoader.loadDirectory(directory).first)
            #expect(second.contentDigest != first.contentDigest)
        }
    }

    /// The examples shipped at the repository's root stay valid.
    @Test func repositoryExamplesAreValid() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let files = try ManifestLoader.loadDirectory(root.appendingPathComponent("Manifests").path)
        #expect(files.flatMap(\.problems).map(\.description) == [])
        let specs = Dictionary(uniqueKeysWithValues: files.compactMap(\.spec).map { ($0.name, $0) })
        #expect(specs["web"] == AppSpec(
            name: "web", image: "hecd-demo:1", replicas: 3, port: 80, labels: ["team": "web"], stopTimeout: 2,
            register: Registration(prefix: "/app/servers")
        ))
        #expect(specs["api"] == AppSpec(
            name: "api", image: "hecd-demo:1", replicas: 2, port: 80, env: ["GREETING": "hello-from-api"],
            register: Registration(prefix: "/app/api")
        ))
    }
}
