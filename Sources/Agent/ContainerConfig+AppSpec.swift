import DockerEngine
import Manifests

extension ContainerConfig {
    /// What `POST /containers/create` gets for one container of `spec`: the manifest's fields mapped one to one
    /// onto the Engine API, as `docker run` would send them. `port` is the app's first port (the image's only
    /// exposed port when the manifest names none).
    static func forApp(_ spec: AppSpec, port: Int, labels: [String: String], hostname: String) -> ContainerConfig {
        var exposed = spec.ports.map(\.number)
        if exposed.isEmpty { exposed = [port] }
        var config = ContainerConfig(
            image: spec.image, command: spec.command, env: spec.env, labels: labels, exposedPorts: exposed,
            hostname: spec.options.network == "host" ? nil : hostname, stopTimeout: spec.stopTimeout)
        let options = spec.options
        config.entrypoint = options.entrypoint
        config.user = options.user
        config.workingDir = options.workingDir
        config.stopSignal = options.stopSignal
        config.openStdin = options.stdinOpen
        config.tty = options.tty
        config.anonymousVolumes = options.volumes.filter { $0.source == .anonymous }.map(\.target)
        var host = HostConfiguration()
        host.binds = options.volumes.compactMap(\.bind)
        host.tmpfs = options.tmpfs
        host.dns = options.dns
        host.dnsSearch = options.dnsSearch
        host.extraHosts = options.extraHosts
        host.memory = options.memoryBytes
        host.memoryReservation = options.memoryReservationBytes
        host.nanoCPUs = options.nanoCPUs
        host.pidsLimit = options.pidsLimit
        host.ulimits = options.ulimits.map { HostConfiguration.Ulimit(name: $0.name, soft: $0.soft, hard: $0.hard) }
        // As the docker CLI sends them: `CAP_NET_ADMIN`, and `ALL` as it is.
        host.capAdd = options.capAdd.map { $0 == "ALL" ? $0 : "CAP_" + $0 }
        host.capDrop = options.capDrop.map { $0 == "ALL" ? $0 : "CAP_" + $0 }
        host.readonlyRootfs = options.readOnly
        host.privileged = options.privileged
        host.networkMode = options.network
        host.pidMode = options.pid
        host.ipcMode = options.ipc
        host.devices = options.devices.map {
            HostConfiguration.Device(pathOnHost: $0.pathOnHost, pathInContainer: $0.pathInContainer, cgroupPermissions: $0.permissions)
        }
        host.logConfig = HostConfiguration.LogConfig(type: options.log.driver, config: options.log.options)
        config.host = host
        return config
    }
}
