import ArgumentParser
import DockerEngine
import Logging

/// `--registry-auth`: where pulls find registry credentials.
enum RegistryAuthOption {
    /// The file given (`--registry-auth` or `HECD_REGISTRY_AUTH`), which must be readable, else the docker CLI's
    /// config.json when it exists. What the file holds that hecd cannot use (credential stores and helpers,
    /// broken entries) is logged once here; the file is read again at each pull.
    static func source(
        _ option: String?, environment: [String: String], logger: Logger
    ) throws -> RegistryAuthSource {
        let given = option ?? environment["HECD_REGISTRY_AUTH"].flatMap { $0.isEmpty ? nil : $0 }
        let source = given.map(RegistryAuthSource.init(path:)) ?? .dockerDefault(environment: environment)
        do {
            guard let credentials = try source.load() else {
                if given != nil { throw ValidationError("--registry-auth \(source.path): no such file") }
                logger.debug("no \(source.path): images are pulled without credentials")
                return source
            }
            for notice in credentials.notices { logger.warning("\(notice)") }
            let registries = credentials.entries.keys.sorted()
            logger.info("registry credentials from \(source.path) for \(registries.isEmpty ? "no registry" : registries.joined(separator: ", "))")
        } catch let error as RegistryCredentialsError {
            if given != nil { throw ValidationError("--registry-auth: \(error)") }
            logger.warning("\(error); images are pulled without credentials until it is fixed")
        }
        return source
    }
}
