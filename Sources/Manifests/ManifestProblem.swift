import Primitives

/// One thing wrong with a manifest: where it is (`file:line:column: field: message`) and what to do about it.
public typealias ManifestProblem = SourceProblem

/// Every problem found in one manifest file (not only the first).
public struct ManifestFileError: Error, Sendable, Hashable, CustomStringConvertible {
    /// In the order of their lines; problems without a line come first.
    public var problems: [ManifestProblem]

    public init(problems: [ManifestProblem]) {
        self.problems = problems
    }

    /// One problem per line.
    public var description: String {
        problems.map(\.description).joined(separator: "\n")
    }
}

/// The outcome of loading one manifest file.
public struct ManifestFile: Sendable, Hashable {
    /// The file's path as given (directory + filename).
    public var path: String
    /// The app it declares, or everything wrong with it.
    public var result: Result<AppSpec, ManifestFileError>
    /// The app name the file declares, when it can be told even though the file is invalid (YAML parsed and
    /// `name` is a valid name string); nil otherwise.
    public var declaredName: String?
    /// A fingerprint of the file's bytes, so the caller can log an error once per change.
    public var contentDigest: String
    /// The line of the `name` value, so a duplicate in a later file can point at this one.
    var declaredNameLine: Int?
    /// The file holds nothing (or only comments and blank lines): often a file caught between the truncate
    /// and the write of an in-place save (`cat > web.yaml`).
    public var isEmpty = false

    public init(
        path: String,
        result: Result<AppSpec, ManifestFileError>,
        declaredName: String?,
        contentDigest: String
    ) {
        self.path = path
        self.result = result
        self.declaredName = declaredName
        self.contentDigest = contentDigest
        self.declaredNameLine = nil
    }

    /// The app, when the file is valid.
    public var spec: AppSpec? {
        if case .success(let spec) = result { return spec }
        return nil
    }

    /// The file's problems; empty when it is valid.
    public var problems: [ManifestProblem] {
        if case .failure(let error) = result { return error.problems }
        return []
    }
}
