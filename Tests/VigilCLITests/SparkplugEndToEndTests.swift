#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Testing
import TestSupport
import VigilAgent
import VigilUplink

/// `vigil run` with `[uplink] kind = "sparkplug"` on the simulator profile, watched by a Sparkplug
/// host from PyPI (pysparkplug) through a real mosquitto: what a SCADA host would see.
@Suite(.serialized) struct SparkplugEndToEndTests {
    static func sparkplugEdits(primaryHost: String? = nil) -> [(String, String)] {
        [("kind = \"mqtt\"", "kind = \"sparkplug\""),
         ("[uplink.mqtt]\nbroker = \"tcp://127.0.0.1:1883\"\ntopic_prefix = \"vigil\"",
          "[uplink.sparkplug]\nbroker = \"tcp://127.0.0.1:1883\"\ngroup_id = \"plant\"" + (primaryHost.map { "\nprimary_host_id = \"\($0)\"" } ?? ""))]
    }

    static func bdSeq(_ birth: [String: Any]) -> Int? { birth.metrics.first { $0.string("name") == "bdSeq" }?.int("value") }

    /// The metric a status channel is in the births: `DEVICE.rest` in DEVICE's DBIRTH as `rest`
    /// with `/` for `.`, the node's own channels in NBIRTH.
    static func place(_ channel: String, devices: Set<String>) -> (device: String?, metric: String) {
        let parts = channel.split(separator: ".", maxSplits: 1).map(String.init)
        if parts.count == 2, devices.contains(parts[0]) { return (parts[0], parts[1].replacing(".", with: "/")) }
        return (nil, channel.replacing(".", with: "/"))
    }

    @Test func aSimulatorNodeAsASparkplugHostSeesIt() throws {
        let h = AgentHarness(name: "sparkplug", edits: Self.sparkplugEdits())
        let broker = try Mosquitto(directory: h.directory)
        let host = try SparkplugHost(port: broker.port)
        try h.start(broker: broker.uri)
        let devices: Set<String> = ["bearing", "motor", "oil-pressure", "qm30", "estop", "door", "shaft"]
        #expect(host.waitFor(seconds: 15) { m in m.filter { $0.string("type") == "DBIRTH" }.count == devices.count }, "\(host.messages.map { $0.string("topic") ?? "" })")
        let nbirth = try #require(host.messages("NBIRTH").first)
        #expect(nbirth.string("topic") == "spBv1.0/plant/NBIRTH/sim-node-1", "edge_node_id defaults to the asset's node")
        #expect(host.messages.allSatisfy { $0["error"] == nil }, "\(host.messages.filter { $0["error"] != nil })")
        // Every channel of `vigil status` is a metric of a birth, with its unit.
        let status = try h.status()
        var births: [String?: [String: [String: Any]]] = [nil: Dictionary(uniqueKeysWithValues: nbirth.metrics.map { ($0.string("name") ?? "", $0) })]
        for d in host.messages("DBIRTH") { births[d.string("device")] = Dictionary(uniqueKeysWithValues: d.metrics.map { ($0.string("name") ?? "", $0) }) }
        #expect(Set(host.messages("DBIRTH").compactMap { $0.string("device") }) == devices)
        for c in status.channels {
            let (device, metric) = Self.place(c.name, devices: devices)
            let m = births[device]?[metric]
            #expect(m != nil, "\(c.name) is not in the births as \(device ?? "node")/\(metric)")
            #expect((m?["properties"] as? [String: Any])?["engUnit"] as? String == c.unit, "\(c.name)")
        }
        // Data the host decodes by alias matches what the node reports: the e-stop circuit and
        // door are steady, the motor temperature moves by less than its deadband between reads.
        #expect(host.waitFor(seconds: 10) { m in m.contains { $0.string("device") == "motor" && $0.string("type") == "DDATA" } })
        for name in ["estop.state", "door.state", "motor.temperature"] {
            let (device, metric) = Self.place(name, devices: devices)
            var last = ""
            let agrees = host.waitFor(seconds: 10) { messages in
                let sent = messages.filter { $0.string("device") == device && $0.string("type") == "DDATA" }.flatMap(\.metrics).last { $0.string("name") == metric }
                let value = (sent?["value"] as? NSNumber)?.doubleValue
                let local = (try? h.status())?.channels.first { $0.name == name }?.value
                last = "host \(String(describing: value)), status \(String(describing: local))"
                return value != nil && local != nil && abs(value! - local!) <= 0.5
            }
            #expect(agrees, "\(name): \(last)")
        }

        // Writes from the network are refused: the interlock waits for its local reset as before.
        #expect(try h.waitFor(seconds: 10) { $0.interlock.state == "waiting_for_reset" })
        #expect(host.command("ncmd plant sim-node-1 Interlock/Reset true"))
        #expect(host.command("ncmd plant sim-node-1 interlock/state true"))
        #expect(host.command("dcmd plant sim-node-1 estop state 0"))
        #expect(host.command("dcmd plant sim-node-1 bearing x/velocity_rms 0"))
        usleep(1_000_000)
        #expect(try h.interlock().state == "waiting_for_reset", "a network command changed the interlock")
        #expect(h.agent!.stderrSoFar.components(separatedBy: "refused").count - 1 >= 4, "\(h.agent!.stderrSoFar)")
        #expect(try h.vigil(["interlock", "reset"]).status == 0)
        #expect(try h.waitFor(seconds: 5) { $0.interlock.state == "armed" })

        // A rebirth: new births on the same connection, seq 0, bdSeq unchanged.
        #expect(host.command("ncmd plant sim-node-1 Node Control/Rebirth true"))
        #expect(host.waitFor(seconds: 5) { $0.filter { $0.string("type") == "NBIRTH" }.count == 2 })
        let rebirth = host.messages("NBIRTH")[1]
        #expect(rebirth.int("seq") == 0 && Self.bdSeq(rebirth) == Self.bdSeq(nbirth))
        #expect(try h.status().uplink.connects == 1, "the rebirth reconnected")

        // SIGKILL: the broker publishes the will, NDEATH with the bdSeq of the last NBIRTH;
        // the restarted agent's NBIRTH carries the next bdSeq.
        h.agent!.signal(SIGKILL)
        _ = h.agent!.finish(timeoutSeconds: 10)
        #expect(host.waitFor(seconds: 30) { $0.contains { $0.string("type") == "NDEATH" } }, "no NDEATH within 1.5 keep-alives")
        #expect(host.messages("NDEATH").first?.int("bdSeq") == Self.bdSeq(nbirth))
        try h.start(broker: broker.uri)
        #expect(host.waitFor(seconds: 15) { $0.filter { $0.string("type") == "NBIRTH" }.count == 3 })
        let restarted = host.messages("NBIRTH")[2]
        #expect(Self.bdSeq(restarted) == ((Self.bdSeq(nbirth) ?? 0) + 1) % 256)
        #expect(h.stop().status == 0)
        #expect(host.waitFor(seconds: 5) { $0.filter { $0.string("type") == "NDEATH" }.count == 2 }, "a clean stop sends its NDEATH")
        #expect(host.messages("NDEATH").last?.int("bdSeq") == Self.bdSeq(restarted))
    }

    /// With `primary_host_id`, no birth goes out while the host is offline; the data taken meanwhile
    /// waits in the spool and arrives, in order and marked historical, once the host is online;
    /// nothing is lost.
    @Test func anOfflinePrimaryHostGatesBirthsAndGetsTheHistoryAfter() throws {
        let h = AgentHarness(name: "sparkplug-host", edits: Self.sparkplugEdits(primaryHost: "scada"))
        let broker = try Mosquitto(directory: h.directory)
        let host = try SparkplugHost(port: broker.port)
        #expect(host.command("state scada offline"))
        try h.start(broker: broker.uri)
        usleep(3_000_000)
        let waiting = try h.status()
        #expect(!waiting.uplink.connected)
        #expect(waiting.uplink.lastError?.contains("scada") == true, "\(String(describing: waiting.uplink.lastError))")
        #expect(waiting.uplink.framesBuilt > 5)
        #expect(host.messages("NBIRTH").isEmpty && host.messages("DDATA").isEmpty)
        #expect(host.command("state scada online"))
        #expect(host.waitFor(seconds: 10) { $0.contains { $0.string("type") == "NBIRTH" } })
        #expect(try h.waitFor(seconds: 20) { $0.uplink.spool?.pendingRecords == 0 && $0.uplink.framesDelivered >= waiting.uplink.framesBuilt })
        // The history is in; live data follows it at the snapshot interval. Wait until each device
        // has more than three data messages (a slow device can have three when the replay ends).
        let devices = ["bearing", "motor", "estop"]
        #expect(host.waitFor(seconds: 10) { messages in
            devices.allSatisfy { d in messages.filter { $0.string("type") == "DDATA" && $0.string("device") == d }.count > 3 }
        })
        let data = host.messages.filter { ["NDATA", "DDATA"].contains($0.string("type") ?? "") }
        let historical = data.map { m in m.metrics.contains { $0["is_historical"] as? Bool == true } }
        #expect(historical.filter { $0 }.count >= 5, "the spooled data was not replayed as historical")
        // History first, then live data; never history after live.
        if let firstLive = historical.firstIndex(of: false) { #expect(!historical[firstLive...].contains(true)) }
        // Each device's snapshots in the order they were taken (events carry the time they
        // happened, which may precede the snapshot taken just before them: left out here).
        for device in devices {
            let stamps = data.filter { $0.string("device") == device }.compactMap { $0.int("timestamp") }
            #expect(stamps.count > 3 && stamps == stamps.sorted(), "\(device): data out of order: \(stamps)")
        }
        // Everything built is delivered: live frames are always in flight, so wait for a moment
        // when none is, rather than sampling one.
        let allDelivered = try h.waitFor(seconds: 10) { $0.uplink.framesDelivered == $0.uplink.framesBuilt }
        let final = try h.status()
        #expect(allDelivered, "\(final.uplink)")
        #expect(final.uplink.losses == UplinkLosses() && final.uplink.spool?.droppedData == 0)
        #expect(h.stop().status == 0)
    }
}
