// swift-tools-version:6.1
// ≤ 6.2 on purpose: Debian's Swift 6.2.3 cross-builds these same sources for aarch64.
import PackageDescription

// Layers point down: C shims → base → pure logic (parts, DSP, interlock, frames, profiles) → HAL →
// drivers → backends and runtime → the two boards → agent → CLI. Only the agent's start-up (the
// composition root) and the tests pick a board; no module below the agent imports a backend.

let package = Package(
    name: "vigil",
    products: [
        .executable(name: "vigil", targets: ["vigil"]),
        // For gateways written in Swift: decode and validate vigil frames.
        .library(name: "VigilFrames", targets: ["VigilFrames"]),
        // Fixed-point signal processing; also what Benchmarks/ measures.
        .library(name: "VigilDSP", targets: ["VigilDSP"]),
        // The node's loop and cycle; what Benchmarks/ runs against cyclictest.
        .library(name: "VigilRuntime", targets: ["VigilRuntime", "VigilBoard", "VigilLoop", "VigilSimulation", "VigilBoardSimulated", "VigilAgent"]),
        // Uplinks and the spool; what `Benchmarks/run frames` measures.
        .library(name: "VigilUplink", targets: ["VigilUplink"]),
        // vigil frames as Sparkplug B messages (for gateways, and `Benchmarks/run frames`).
        .library(name: "VigilSparkplug", targets: ["VigilSparkplug"]),
    ],
    dependencies: [],
    targets: [
        // MARK: C libraries from Debian (bookworm), each with its apt provider.
        .systemLibrary(name: "CGPIOD", pkgConfig: "libgpiod", providers: [.apt(["libgpiod-dev"])]),
        .systemLibrary(name: "CI2C", providers: [.apt(["libi2c-dev"])]),
        .systemLibrary(name: "CModbus", pkgConfig: "libmodbus", providers: [.apt(["libmodbus-dev"])]),
        .systemLibrary(name: "CPahoMQTT", providers: [.apt(["libpaho-mqtt-dev", "libssl-dev"])]),
        // ioctls, CPU_SET and other macros Swift cannot call.
        .target(name: "CVigilSys"),
        // libmodbus's custom-RTS callback, for a GPIO driver-enable line.
        .target(name: "CVigilModbus", dependencies: ["CModbus"]),
        // Paho's macro-initialised option structs and callbacks, as blocking calls with timeouts.
        // ssl and crypto named after Paho so a fully static link resolves them in order.
        .target(name: "CVigilMQTT", dependencies: ["CPahoMQTT"], linkerSettings: [.linkedLibrary("paho-mqtt3as"), .linkedLibrary("ssl"), .linkedLibrary("crypto")]),

        // MARK: Pure layers: no C library, no Foundation.
        .target(name: "VigilBase"),
        // JSON text and Codable without Foundation (control socket, `--json`).
        .target(name: "VigilJSON"),
        // Commands declared as structs; help, man page and completions from the same declarations.
        .target(name: "VigilCommandLine"),
        .target(name: "VigilDSP", dependencies: ["VigilBase"]),
        .target(name: "VigilInterlock", dependencies: ["VigilBase", "VigilFrames"]),
        .target(name: "VigilFrames", dependencies: ["VigilBase", "VigilJSON"]),
        // vigil frames rendered as Sparkplug B messages, with its protobuf wire format by hand.
        .target(name: "VigilSparkplug", dependencies: ["VigilBase", "VigilFrames"]),
        // One file per part: registers, IDs, addresses, rates, ranges, FIFO depth, bus cost, channels.
        .target(name: "VigilParts", dependencies: ["VigilBase", "VigilFrames"]),
        // Uplinks (MQTT, UDP, serial, file) and the store-and-forward spool.
        .target(name: "VigilUplink", dependencies: ["VigilBase", "VigilFrames", "VigilSparkplug", "VigilHAL", "CVigilMQTT", "CVigilSys"]),
        .target(name: "VigilBoard", dependencies: [
            "VigilBase", "VigilParts", "VigilFrames", "VigilDSP", "VigilHAL", "VigilInterlock",
        ]),

        // MARK: Hardware: capabilities, drivers generic over them, and the two backends.
        .target(name: "VigilHAL", dependencies: ["VigilBase"]),
        .target(name: "VigilDrivers", dependencies: ["VigilBase", "VigilHAL", "VigilParts"]),
        .target(name: "VigilHALLinux", dependencies: ["VigilHAL", "CGPIOD", "CI2C", "CModbus", "CVigilModbus", "CVigilSys"]),
        .target(name: "VigilSimulation", dependencies: ["VigilBase", "VigilBoard", "VigilHAL", "VigilDSP", "VigilParts", "CVigilSys"]),

        // MARK: The real-time loop and the node that runs in it, generic over the board.
        .target(name: "VigilLoop", dependencies: ["VigilBase", "VigilHAL", "CVigilSys"]),
        .target(name: "VigilRuntime", dependencies: [
            "VigilBase", "VigilBoard", "VigilParts", "VigilDSP", "VigilFrames", "VigilInterlock", "VigilHAL", "VigilDrivers", "VigilLoop", "CVigilSys",
        ]),

        // MARK: The two boards: the kernel's devices, or register-level models.
        .target(name: "VigilBoardLinux", dependencies: ["VigilBase", "VigilBoard", "VigilHAL", "VigilHALLinux", "VigilLoop", "VigilRuntime"]),
        .target(name: "VigilBoardSimulated", dependencies: [
            "VigilBase", "VigilBoard", "VigilHAL", "VigilDrivers", "VigilLoop", "VigilParts", "VigilRuntime", "VigilSimulation",
        ]),

        // MARK: The agent: the composition root (the one place that chooses a board), threads,
        // uplink worker, control socket.
        .target(name: "VigilAgent", dependencies: [
            "VigilBase", "VigilBoard", "VigilFrames", "VigilUplink", "VigilSparkplug", "VigilRuntime", "VigilLoop", "VigilInterlock", "VigilHAL",
            "VigilDSP", "VigilParts", "VigilDrivers", "VigilBoardLinux", "VigilBoardSimulated", "VigilJSON",
        ]),

        // MARK: The command line.
        .target(name: "VigilCLI", dependencies: [
            "VigilBase", "VigilBoard", "VigilAgent", "VigilFrames", "VigilUplink", "VigilHAL", "VigilHALLinux", "VigilDrivers", "VigilParts",
            "VigilRuntime", "VigilDSP", "VigilLoop", "VigilJSON", "VigilCommandLine",
        ]),
        .executableTarget(name: "vigil", dependencies: ["VigilCLI"]),

        // MARK: Tests.
        .target(name: "CTestSupport", path: "Tests/CTestSupport"),
        .target(name: "TestSupport", dependencies: ["VigilBase", "CTestSupport"], path: "Tests/TestSupport"),
        .testTarget(name: "VigilBaseTests", dependencies: ["VigilBase"]),
        .testTarget(name: "VigilJSONTests", dependencies: ["VigilJSON", "VigilBase"]),
        .testTarget(name: "VigilCommandLineTests", dependencies: ["VigilCommandLine", "TestSupport"]),
        .testTarget(name: "VigilInterlockTests", dependencies: ["VigilInterlock", "VigilFrames", "TestSupport"]),
        .testTarget(name: "VigilDSPTests", dependencies: ["VigilDSP", "TestSupport"], exclude: ["Golden"]),
        .testTarget(name: "VigilBoardTests", dependencies: ["VigilBoard", "VigilParts", "TestSupport"], exclude: ["Corpus"]),
        .testTarget(name: "VigilDriverTests", dependencies: ["VigilDrivers", "VigilParts", "VigilBoard", "VigilSimulation", "VigilHALLinux", "TestSupport"]),
        .testTarget(name: "VigilLoopTests", dependencies: ["VigilLoop", "VigilHAL"]),
        .testTarget(name: "VigilRuntimeTests", dependencies: [
            "VigilRuntime", "VigilBoard", "VigilLoop", "VigilSimulation", "VigilBoardSimulated", "VigilAgent", "VigilInterlock", "VigilFrames", "TestSupport",
        ]),
        .testTarget(name: "VigilCLITests", dependencies: ["VigilCLI", "VigilAgent", "VigilFrames", "VigilUplink", "VigilBoard", "VigilRuntime", "VigilInterlock", "VigilBase", "VigilSimulation", "VigilBoardSimulated", "VigilLoop", "VigilParts", "VigilDSP", "VigilHAL", "VigilCommandLine", "TestSupport"], exclude: ["Golden"]),
        .testTarget(name: "VigilFramesTests", dependencies: ["VigilFrames", "VigilBase"]),
        .testTarget(name: "VigilUplinkTests", dependencies: ["VigilUplink", "VigilSparkplug", "VigilFrames", "VigilBase", "VigilHAL", "VigilHALLinux", "TestSupport"]),
    ]
)

// Extension members are visible only from modules a file imports itself: a module that did import
// Foundation could not lend its String API to the rest (that would link
// FoundationInternationalization and ICU's data, ~40 MB, into a static binary).
for target in package.targets where target.type != .system && (target.name.hasPrefix("Vigil") || target.name == "vigil" || target.name == "TestSupport") {
    target.swiftSettings = (target.swiftSettings ?? []) + [.enableUpcomingFeature("MemberImportVisibility")]
}

// Configuration, command-line and control-socket code runs once per command or request, and the
// uplink with its frame codec once per frame, and the Linux board opens devices at start-up: never in
// the sampling loop: optimise them for size (the binary's budget is 16 MB). The DSP, loop, runtime,
// drivers, HAL backends and simulated devices keep -O.
for target in package.targets where ["VigilBoard", "VigilCLI", "VigilAgent", "VigilUplink", "VigilFrames", "VigilSparkplug", "VigilBoardLinux"].contains(target.name) {
    target.swiftSettings = (target.swiftSettings ?? []) + [.unsafeFlags(["-Osize"], .when(configuration: .release))]
}

// The node cycle is generic over the board and lives in a module that knows no backend; the agent
// (which knows both boards) specialises it. Cross-module optimisation makes the real-time modules'
// bodies available to that specialisation (without it the loop would run the generic body, with a
// runtime type lookup per driver call).
for target in package.targets where ["VigilRuntime", "VigilLoop", "VigilInterlock", "VigilDrivers"].contains(target.name) {
    target.swiftSettings = (target.swiftSettings ?? []) + [.unsafeFlags(["-cross-module-optimization"], .when(configuration: .release))]
}

// The real-time path (the node's cycle, the simulated devices it reads on the simulator board,
// drivers, interlock, DSP, loop) runs 1000 times a second. Dynamic exclusivity checks there cost a
// quarter of the cycle's instructions (callgrind: swift_beginAccess and its access set), for class
// properties the cycle touches one at a time on one thread. They stay on in debug builds, so every
// `swift test` run checks those paths dynamically; the compile-time checks apply everywhere.
for target in package.targets where ["VigilBase", "VigilDSP", "VigilInterlock", "VigilHAL", "VigilDrivers", "VigilHALLinux",
                                     "VigilSimulation", "VigilLoop", "VigilRuntime", "VigilBoardLinux", "VigilBoardSimulated",
                                     "VigilParts"].contains(target.name) {
    target.swiftSettings = (target.swiftSettings ?? []) + [.unsafeFlags(["-enforce-exclusivity=unchecked"], .when(configuration: .release))]
}
