import VigilBase
import VigilBoard
import VigilFrames
import VigilHAL
import VigilInterlock

/// The human-readable `board show`: what a technician checks against the wiring.
enum ProfileSummary {
    static func render(_ loaded: LoadedProfile) -> String {
        let p = loaded.profile
        var out: [String] = []
        out.append("board     \(p.board.name) (\(p.board.backend.rawValue))\(p.board.description.isEmpty ? "" : " — \(p.board.description)")")
        if !p.board.models.isEmpty { out.append("models    \(p.board.models.joined(separator: " | "))") }
        if !p.board.compatible.isEmpty { out.append("compatible \(p.board.compatible.joined(separator: " | "))") }
        out.append("asset     \(p.asset.site)/\(p.asset.area)/\(p.asset.line)/\(p.asset.machine), node \(p.asset.node)")
        out.append("sha256    \(loaded.sha256.hexString)")
        out.append("realtime  period \(p.realtime.periodMicroseconds) µs, SCHED_FIFO \(p.realtime.priority)\(p.realtime.cpu.map { ", cpu \($0)" } ?? ""), mlockall \(p.realtime.lockMemory ? "on" : "off")")
        out.append("watchdog  \(p.watchdog.device.map { "\($0), \(p.watchdog.timeoutSeconds) s" } ?? "none")")
        out.append("uplink    \(uplinkSummary(p.uplink))")
        out.append("spool     \(p.spool.directory), \(p.spool.maxBytes) bytes")
        out.append("control   \(p.control.socket)")
        if !p.gpioChips.isEmpty {
            out.append("")
            out.append("GPIO chips")
            for c in p.gpioChips {
                switch c.driver {
                case .gpiochip: out.append("  \(c.name): label \"\(c.label)\"\(c.lines.isEmpty ? "" : ", \(c.lines.count) lines")")
                case .picontrol: out.append("  \(c.name): piControl \(c.device ?? "/dev/piControl0"), output watchdog \(c.outputWatchdogMilliseconds ?? 0) ms")
                }
            }
        }
        if !p.i2cBuses.isEmpty {
            out.append("I2C buses")
            for b in p.i2cBuses { out.append("  \(b.name): \(b.adapter.map { "adapter \"\($0)\"" } ?? b.path ?? "?"), \(b.clockHz / 1000) kHz") }
            // The bus time the sensors need in the busiest period (the agent checks it again
            // against the adapter's own clock at start-up).
            for budget in I2CBudget.of(p) { out.append("  budget \(budget.summary)") }
        }
        if !p.serialPorts.isEmpty {
            out.append("Serial ports")
            for s in p.serialPorts {
                let parity = s.parity == .none ? "N" : (s.parity == .even ? "E" : "O")
                out.append("  \(s.name): \(s.device) \(s.baud) \(s.dataBits)\(parity)\(s.stopBits), direction \(s.direction.rawValue)\(s.driverEnable.map { " (DE \($0))" } ?? "")")
            }
        }
        out.append("")
        out.append("Sensors")
        for s in p.sensors {
            switch s.kind {
            case .accelerometer(let a):
                out.append("  \(s.name): \(a.part) on \(a.bus) @ 0x\(String(a.address, radix: 16)), \(formatNumber(a.sampleRateHz)) Hz, ±\(a.rangeG) g, axes \(a.axes.map(\.rawValue).joined()), block \(a.analysis.blockLength) every \(a.analysis.intervalMilliseconds) ms")
            case .temperature(let t):
                out.append("  \(s.name): \(t.part) on \(t.bus) @ 0x\(String(t.address, radix: 16)), every \(t.pollMilliseconds) ms")
            case .currentLoop(let c):
                out.append("  \(s.name): 4–20 mA loop on \(c.part) \(c.input) (\(c.bus) @ 0x\(String(c.address, radix: 16))), \(formatNumber(c.shuntOhms)) Ω shunt, ±\(formatNumber(c.rangeVolts)) V, \(c.dataRateSPS) SPS \(c.continuous ? "continuous" : "single-shot"), 4 mA = \(formatNumber(c.low)) \(c.unit.rawValue), 20 mA = \(formatNumber(c.high)) \(c.unit.rawValue), every \(c.pollMilliseconds) ms")
            case .hwmon(let h):
                out.append("  \(s.name): kernel \(h.interface.rawValue) device \(h.device), \(h.attribute), every \(h.pollMilliseconds) ms")
            case .modbus(let m):
                out.append("  \(s.name): modbus unit \(m.unit) on \(m.port), \(m.registers.count) registers every \(m.pollMilliseconds) ms")
            case .digitalInput(let d):
                out.append("  \(s.name): digital input \(d.line)\(d.activeLow ? " active-low" : ""), bias \(d.bias.rawValue), debounce \(d.debounceMilliseconds) ms")
            case .tachometer(let t):
                out.append("  \(s.name): tachometer \(t.line), \(t.pulsesPerRevolution) pulse/rev")
            }
        }
        out.append("")
        out.append("Channels")
        let width = loaded.channels.channels.map(\.name.count).max() ?? 10
        for c in loaded.channels.channels {
            out.append("  \(pad(String(c.id), 3)) \(rightPad(c.name, width + 2))\(rightPad(c.unit.display, 6)) max age \(c.maxAgeMilliseconds) ms")
        }
        if !p.outputs.isEmpty {
            out.append("")
            out.append("Outputs")
            for o in p.outputs { out.append("  \(o.name): \(o.kind.rawValue) on \(o.line)\(o.activeLow ? " (active-low)" : "")") }
        }
        if !p.rules.isEmpty {
            out.append("Rules")
            for r in p.rules {
                let debounce: String
                switch r.debounce {
                case .count(let n): debounce = n == 1 ? "" : ", debounce \(n)"
                case .milliseconds(let ms): debounce = ", debounce \(ms) ms"
                }
                out.append("  \(r.name): \(r.channel) \(r.comparison == .above ? ">" : "<") \(formatNumber(r.limit)) \(r.unit.rawValue) (release \(formatNumber(r.release)))\(debounce) → \(r.action.rawValue)\(r.output.map { " \($0)" } ?? ""), on fault \(r.onFault.rawValue)")
            }
        }
        return out.joined(separator: "\n")
    }

    static func uplinkSummary(_ u: UplinkSpec) -> String {
        switch u.kind {
        case .mqtt: return "mqtt \(u.mqtt?.broker ?? "?") (MQTT \(u.mqtt?.version.rawValue ?? "?"))"
        case .sparkplug:
            let sp = u.sparkplug
            return "sparkplug \(sp?.mqtt.broker ?? "?") spBv1.0/\(sp?.groupID ?? "?")/…/\(sp?.edgeNodeID ?? "?")\(sp?.primaryHostID.map { ", primary host \($0)" } ?? "")"
        case .udp: return "udp \(u.udp?.host ?? "?"):\(u.udp?.port ?? 0)"
        case .serial: return "serial \(u.serial?.device ?? "?") (\(u.serial?.framing.rawValue ?? "?"))"
        case .file: return "file \(u.file?.path ?? "?")"
        case .none: return "none"
        }
    }

    static func pad(_ s: String, _ width: Int) -> String { String(repeating: " ", count: max(0, width - s.count)) + s }
    static func rightPad(_ s: String, _ width: Int) -> String { s + String(repeating: " ", count: max(0, width - s.count)) }

    static func formatNumber(_ value: Double) -> String {
        if value.rounded() == value && abs(value) < 1e15 { return String(Int(value)) }
        return String(value)
    }
}
