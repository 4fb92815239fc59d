#if canImport(Glibc)
import Glibc
#endif
import Testing
import TestSupport
import VigilBase
import VigilFrames
import VigilHAL
import VigilHALLinux
@testable import VigilUplink

/// The UDP and serial uplinks, each against a real peer: a UDP socket on 127.0.0.1, and the far
/// end of a socat pseudo-terminal pair read through `LinuxSerialPort`.
@Suite(.serialized) struct DatagramAndSerialUplinkTests {
    func frames(_ n: Int) -> [Frame] {
        (0..<n).map { i in
            Frame(header: FrameHeader(type: .data, session: 9, sequence: UInt32(i), wallClockMilliseconds: 0, monotonicMilliseconds: 0, clockSync: .unknown),
                          body: .data([DataValue(channel: 1, quality: [], raw: Int64(i) * 1000), DataValue(channel: 2, quality: .stale, raw: 0)]))
        }
    }

    @Test func udpDatagramsCarryOneFrameEach() throws {
        let s = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        defer { close(s) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
        #expect(withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(s, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } } == 0)
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(s, $0, &len) } }
        let port = Int(UInt16(bigEndian: addr.sin_port))
        let uplink = UDPUplink(host: "127.0.0.1", port: port)
        let batch = frames(20)
        try uplink.connect(birth: batch[0], death: batch[0])
        #expect(try uplink.send(Array(batch[1...])) == 19)
        var received = 0
        var buffer = [UInt8](repeating: 0, count: 2048)
        var tv = timeval(tv_sec: 2, tv_usec: 0)
        setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        while received < 20 {
            let n = buffer.withUnsafeMutableBytes { recv(s, $0.baseAddress, $0.count, 0) }
            guard n > 0 else { break }
            guard case .frame(let f, let length) = FrameDecoder.decode(Array(buffer[0..<n])), length == n else { Issue.record("bad datagram"); break }
            #expect(f.header.sequence == UInt32(received))
            received += 1
        }
        #expect(received == 20)
    }

    @Test(arguments: LineFraming.allCases)
    func serialLineCarriesFramedFramesToTheFarEnd(framing: LineFraming) throws {
        guard let socat = TestPaths.which("socat") else { Issue.record("socat is not installed (Scripts/setup installs it)"); return }
        let dir = TestPaths.makeTemporaryDirectory("serial-uplink")
        defer { TestPaths.removeTree(dir) }
        let pair = try ChildProcess(socat, ["-d", "-d", "PTY,link=\(dir)/node,raw,echo=0", "PTY,link=\(dir)/gateway,raw,echo=0"])
        defer { pair.signal(SIGKILL); _ = pair.finish(timeoutSeconds: 5) }
        #expect(pair.waitForOutput(timeoutSeconds: 10) { $0.contains("starting data transfer") })
        let gateway = try LinuxSerialPort(path: "\(dir)/gateway", baud: 115_200)
        let node = "\(dir)/node"
        let uplink = SerialUplink(device: node, baud: 115_200, framing: framing) { () throws(HALError) in try LinuxSerialPort(path: node, baud: 115_200) }
        let batch = frames(50)
        try uplink.connect(birth: batch[0], death: batch[0])
        #expect(try uplink.send(Array(batch[1...])) == 49)
        var deframer = LineDeframer(framing: framing)
        var decoded: [Frame] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        let deadline = monotonicSeconds() + 5
        while decoded.count < 50 && monotonicSeconds() < deadline {
            let n = try buffer.withUnsafeMutableBytes { try gateway.read(into: $0, timeoutNanoseconds: 200_000_000) }
            for packet in deframer.feed(buffer[0..<n]) {
                if case .frame(let f, _) = FrameDecoder.decode(packet) { decoded.append(f) }
            }
        }
        #expect(decoded.map(\.header.sequence) == (0..<50).map { UInt32($0) })
        #expect(deframer.damaged == 0)
        let missingPath = "\(dir)/no-such-tty"
        let missing = SerialUplink(device: missingPath, baud: 9600, framing: framing) { () throws(HALError) in try LinuxSerialPort(path: missingPath, baud: 9600) }
        do {
            try missing.connect(birth: batch[0], death: batch[0])
            Issue.record("opened a missing device")
        } catch {
            #expect(error.message.contains("no-such-tty"))
        }
    }
}
