#if canImport(Glibc)
import Glibc
#endif
import Testing
import TestSupport
import VigilBase
import VigilFrames
@testable import VigilUplink

/// The MQTT uplink against a real mosquitto on loopback: topics and QoS, the will as death, TLS
/// with a test CA and client certificates, and a wrong certificate refused with a clear error.
@Suite(.serialized) struct MQTTUplinkTests {
    static func frame(_ type: FrameType, _ seq: UInt32) -> Frame {
        let body: FrameBody
        switch type {
        case .birth: body = .birth(BirthBody(firmware: "test", asset: "a/b/c/d/e", profileName: "t", profileHash: [], channels: []))
        case .death: body = .death(.connectionLost)
        case .event: body = .event(EventBody(kind: 3, reason: 0, rule: 0, channel: 1, value: 5, limit: 4.5))
        default: body = .data([DataValue(channel: 1, quality: [], raw: Int64(seq))])
        }
        return Frame(header: FrameHeader(type: type, session: 42, sequence: seq, wallClockMilliseconds: 0, monotonicMilliseconds: seq, clockSync: .unknown), body: body)
    }

    func settings(_ broker: String, tls: TestCertificates? = nil, client: (String, String)? = nil) -> MQTTSettings {
        let connection = MQTTConnection(broker: broker, clientID: "vigil-test-\(getpid())-\(Int.random(in: 0..<1_000_000))", version: 5,
                                        keepAliveSeconds: 10, connectTimeoutMilliseconds: 3000, caFile: tls?.ca, certificateFile: client?.0, keyFile: client?.1)
        return MQTTSettings(connection: connection, topicBase: "vigil/site/node", dataQoS: 1)
    }

    @Test func framesArriveInOrderOnTheirTopics() throws {
        let dir = TestPaths.makeTemporaryDirectory("mqtt")
        defer { TestPaths.removeTree(dir) }
        let broker = try Mosquitto(directory: dir)
        let recorder = try MQTTRecorder(port: broker.port, topic: "vigil/#")
        let uplink = MQTTUplink(settings(broker.uri))
        try uplink.connect(birth: Self.frame(.birth, 0), death: Self.frame(.death, 0))
        let batch = (1...200).map { Self.frame($0 % 10 == 0 ? .event : .data, UInt32($0)) }
        var sent = 0
        while sent < batch.count { sent += try uplink.send(Array(batch[sent..<min(batch.count, sent + 32)])) }
        #expect(sent == 200)
        let t0 = monotonicSeconds()
        var more = 0
        let second = (201...400).map { Self.frame(.data, UInt32($0)) }
        while more < second.count { more += try uplink.send(Array(second[more..<min(second.count, more + 32)])) }
        print("MQTT qos1_frames=200 seconds=\(monotonicSeconds() - t0)")
        uplink.disconnect(death: nil)
        usleep(300_000)
        _ = recorder.stop()
        let decoded = recorder.messages.compactMap { m -> (String, Frame)? in
            if case .frame(let f, _) = FrameDecoder.decode(m.payload) { return (m.topic, f) }
            return nil
        }
        #expect(decoded.count >= 401)
        #expect(decoded.first?.0 == "vigil/site/node/birth")
        let sequences = decoded.filter { $0.1.header.type == .data || $0.1.header.type == .event }.map(\.1.header.sequence)
        #expect(sequences == Array(1...400))
        #expect(decoded.filter { $0.1.header.type == .event }.allSatisfy { $0.0 == "vigil/site/node/event" })

    }

    /// A connection whose birth was refused (mosquitto's ACL: PUBACK 0x87) after CONNACK is torn
    /// down: no frame is sent on it, and the error says the birth may have reached the broker
    /// (its sequence number is then used up, so a data frame never shares it).
    @Test func aRefusedBirthLeavesNoConnection() throws {
        let dir = TestPaths.makeTemporaryDirectory("mqtt-acl")
        defer { TestPaths.removeTree(dir) }
        TestPaths.writeFile("\(dir)/acl", "topic deny vigil/site/node/birth\ntopic readwrite vigil/#\n")
        chmod("\(dir)/acl", 0o644)
        let broker = try Mosquitto(directory: dir, extra: ["acl_file \(dir)/acl"])
        let recorder = try MQTTRecorder(port: broker.port, topic: "vigil/#")
        let uplink = MQTTUplink(settings(broker.uri))
        do {
            try uplink.connect(birth: Self.frame(.birth, 0), death: Self.frame(.death, 0))
            Issue.record("connected although the birth was refused")
        } catch {
            #expect(error.message.contains("127.0.0.1") && error.message.contains("birth"), "\(error.message)")
            #expect(error.birthMayHaveBeenSent, "\(error.message)")
        }
        #expect(!uplink.isConnected)
        #expect(throws: UplinkError.self) { _ = try uplink.send([Self.frame(.data, 1)]) }
        usleep(300_000)
        _ = recorder.stop()
        #expect(!recorder.messages.contains { $0.topic.hasSuffix("/data") }, "data flowed on a half-failed connection")
    }

    /// A refused rebirth subscription (SUBACK 0x87 from a peer that refuses every subscription:
    /// mosquitto's ACL grants them) fails the connect before the birth: nothing is published.
    @Test func aRefusedSubscriptionLeavesNoConnectionAndNoBirth() throws {
        let port = Mosquitto.freePort()
        let peer = try ChildProcess("/usr/bin/python3", [TestPaths.repositoryRoot + "/Tests/Peers/refusing_broker.py", String(port)])
        defer { peer.signal(SIGKILL); _ = peer.finish(timeoutSeconds: 5) }
        let deadline = monotonicSeconds() + 10
        while !peer.stdoutSoFar.contains("ready") && monotonicSeconds() < deadline { usleep(20_000) }
        let uplink = MQTTUplink(settings("tcp://127.0.0.1:\(port)"))
        do {
            try uplink.connect(birth: Self.frame(.birth, 0), death: Self.frame(.death, 0))
            Issue.record("connected although the subscription was refused")
        } catch {
            #expect(error.message.contains("subscribe") && error.message.contains("refused"), "\(error.message)")
            #expect(!error.birthMayHaveBeenSent)
        }
        #expect(!uplink.isConnected)
        #expect(throws: UplinkError.self) { _ = try uplink.send([Self.frame(.data, 1)]) }
        usleep(200_000)
        #expect(!peer.stdoutSoFar.contains("PUBLISH"), "\(peer.stdoutSoFar)")
    }

    /// `data_qos = 0` confirms a frame once it is written to the socket, never before: with the
    /// broker frozen (SIGSTOP) the socket buffers fill and confirmations stop, and every frame
    /// that was confirmed reaches the broker once it runs again, even though the client is gone
    /// by then. (Paho gives every QoS 0 publish token 0; taking that as "delivered" confirmed
    /// frames still queued in the client, which the closed client then lost.)
    @Test func qos0ConfirmsOnlyWhatTheSocketTook() throws {
        let dir = TestPaths.makeTemporaryDirectory("mqtt-qos0")
        defer { TestPaths.removeTree(dir) }
        let broker = try Mosquitto(directory: dir)
        let recorder = try MQTTRecorder(port: broker.port, topic: "vigil/q0")
        var session: MQTTSession? = try MQTTSession(MQTTConnection(broker: broker.uri, clientID: "vigil-qos0-\(getpid())", version: 5, keepAliveSeconds: 60))
        // Large messages, so that the client's own queue (Paho keeps up to 100) holds more than
        // loopback's socket buffers (a few MB each way).
        let payload = [UInt8](repeating: 0x5A, count: 256_000)
        broker.process?.signal(SIGSTOP)
        var confirmed = 0, offered = 0
        for _ in 0..<16 {  // up to 64 MB
            let batch = (0..<16).map { _ in MQTTSession.Message(topic: "vigil/q0", payload: payload, qos: 0) }
            offered += batch.count
            let n = (try? session!.publish(batch, deliveryTimeoutMilliseconds: 300)) ?? 0
            confirmed += n
            if n < batch.count { break }
        }
        session = nil  // the client goes; what it had only queued is lost with it
        broker.process?.signal(SIGCONT)
        usleep(2_000_000)
        let received = recorder.messages.count
        _ = recorder.stop()
        print("MQTT qos0 frozen_broker offered=\(offered) confirmed=\(confirmed) received=\(received)")
        #expect(confirmed < offered, "every QoS 0 message was confirmed while the broker was frozen")
        #expect(received >= confirmed, "\(confirmed) confirmed but only \(received) reached the broker")
    }

    /// QoS 0 frames written shortly before the connection was lost are counted as possibly lost
    /// (nothing acknowledged them); a clean disconnect counts none.
    @Test func qos0FramesBeforeALostConnectionAreCounted() throws {
        let dir = TestPaths.makeTemporaryDirectory("mqtt-qos0-lost")
        defer { TestPaths.removeTree(dir) }
        let broker = try Mosquitto(directory: dir)
        var s = settings(broker.uri)
        s.dataQoS = 0
        let uplink = MQTTUplink(s)
        try uplink.connect(birth: Self.frame(.birth, 0), death: Self.frame(.death, 0))
        #expect(try uplink.send((1...20).map { Self.frame(.data, UInt32($0)) }) == 20)
        uplink.disconnect(death: Self.frame(.death, 21))
        #expect(uplink.possiblyLostAtDisconnect == 0)
        try uplink.connect(birth: Self.frame(.birth, 22), death: Self.frame(.death, 22))
        #expect(try uplink.send((23...32).map { Self.frame(.data, UInt32($0)) }) == 10)
        // An event (QoS 1) confirmed after them proves the connection carried them.
        #expect(try uplink.send([Self.frame(.event, 33)]) == 1)
        #expect(try uplink.send((34...40).map { Self.frame(.data, UInt32($0)) }) == 7)
        broker.stop(kill: true)
        let deadline = monotonicSeconds() + 10
        while uplink.isConnected && monotonicSeconds() < deadline { usleep(20_000) }
        #expect(!uplink.isConnected)
        #expect(throws: UplinkError.self) { try uplink.connect(birth: Self.frame(.birth, 41), death: Self.frame(.death, 41)) }
        #expect(uplink.possiblyLostAtDisconnect == 7)
    }

    @Test func anUnreachableBrokerIsAClearError() throws {
        let uplink = MQTTUplink(settings("tcp://127.0.0.1:\(Mosquitto.freePort())"))
        do {
            try uplink.connect(birth: Self.frame(.birth, 0), death: Self.frame(.death, 0))
            Issue.record("connected to nothing")
        } catch {
            #expect(error.message.contains("127.0.0.1"), "\(error.message)")
        }
    }

    @Test func tlsWithTestCAAndClientCertificateWorksAndAWrongCertificateIsRefused() throws {
        let dir = TestPaths.makeTemporaryDirectory("mqtt-tls")
        defer { TestPaths.removeTree(dir) }
        let certs = try TestCertificates(directory: dir)
        let broker = try Mosquitto(directory: dir, extra: [
            "cafile \(certs.ca)", "certfile \(certs.serverCert)", "keyfile \(certs.serverKey)", "require_certificate true",
        ])
        let good = MQTTUplink(settings("ssl://127.0.0.1:\(broker.port)", tls: certs, client: (certs.clientCert, certs.clientKey)))
        try good.connect(birth: Self.frame(.birth, 0), death: Self.frame(.death, 0))
        #expect(try good.send([Self.frame(.data, 1)]) == 1)
        good.disconnect(death: nil)

        let wrong = MQTTUplink(settings("ssl://127.0.0.1:\(broker.port)", tls: certs, client: (certs.strangerCert, certs.strangerKey)))
        do {
            try wrong.connect(birth: Self.frame(.birth, 0), death: Self.frame(.death, 0))
            Issue.record("a certificate from another CA was accepted")
        } catch {
            #expect(error.message.contains("ssl://127.0.0.1:\(broker.port)"), "\(error.message)")
        }
        // No client certificate at all is refused too.
        let none = MQTTUplink(settings("ssl://127.0.0.1:\(broker.port)", tls: certs))
        #expect(throws: UplinkError.self) { try none.connect(birth: Self.frame(.birth, 0), death: Self.frame(.death, 0)) }
    }

    /// Issue 18 (10): the node checks the broker. A broker presenting a certificate from another
    /// CA, or one for another host name, is refused; turning either check off fails this test.
    @Test func aBrokerWithTheWrongCertificateIsRefused() throws {
        let dir = TestPaths.makeTemporaryDirectory("mqtt-tls-server")
        defer { TestPaths.removeTree(dir) }
        let certs = try TestCertificates(directory: dir)
        for (cert, key, why) in [(certs.strangerServerCert, certs.strangerServerKey, "another CA's certificate"),
                                 (certs.wrongNameCert, certs.wrongNameKey, "a certificate for elsewhere.example")] {
            let broker = try Mosquitto(directory: dir, extra: ["cafile \(certs.ca)", "certfile \(cert)", "keyfile \(key)"])
            let uplink = MQTTUplink(settings("ssl://127.0.0.1:\(broker.port)", tls: certs))
            #expect(throws: UplinkError.self, "the node accepted a broker with \(why)") {
                try uplink.connect(birth: Self.frame(.birth, 0), death: Self.frame(.death, 0))
            }
        }
        // The right certificate on the same kind of broker connects (the refusals were the checks).
        let broker = try Mosquitto(directory: dir, extra: ["cafile \(certs.ca)", "certfile \(certs.serverCert)", "keyfile \(certs.serverKey)"])
        let uplink = MQTTUplink(settings("ssl://127.0.0.1:\(broker.port)", tls: certs))
        try uplink.connect(birth: Self.frame(.birth, 0), death: Self.frame(.death, 0))
        uplink.disconnect(death: nil)
    }

    /// Issue 18 (9, 10): `ssl://` without `ca_file` uses the system trust store (Paho failed with a
    /// NULL parameter). OpenSSL's default store is pointed at the test CA through SSL_CERT_FILE,
    /// which OpenSSL reads for its default paths: trusted there, the broker is accepted; with the
    /// store pointed elsewhere, refused.
    @Test func withoutACAFileTheSystemTrustStoreDecides() throws {
        let dir = TestPaths.makeTemporaryDirectory("mqtt-tls-system")
        defer { TestPaths.removeTree(dir) }
        let certs = try TestCertificates(directory: dir)
        let broker = try Mosquitto(directory: dir, extra: ["cafile \(certs.ca)", "certfile \(certs.serverCert)", "keyfile \(certs.serverKey)"])
        let previous = getenv("SSL_CERT_FILE").map { String(cString: $0) }
        defer { if let previous { setenv("SSL_CERT_FILE", previous, 1) } else { unsetenv("SSL_CERT_FILE") } }
        setenv("SSL_CERT_FILE", certs.ca, 1)
        let trusted = MQTTUplink(settings("ssl://127.0.0.1:\(broker.port)"))
        try trusted.connect(birth: Self.frame(.birth, 0), death: Self.frame(.death, 0))
        trusted.disconnect(death: nil)
        setenv("SSL_CERT_FILE", "\(dir)/sca.crt", 1)
        let untrusted = MQTTUplink(settings("ssl://127.0.0.1:\(broker.port)"))
        #expect(throws: UplinkError.self) { try untrusted.connect(birth: Self.frame(.birth, 0), death: Self.frame(.death, 0)) }
    }

    /// Issue 18 (12): reconnect waits are drawn between half and all of a doubling step, so nodes
    /// that lost one broker together do not retry in lockstep.
    @Test func reconnectWaitsDoubleWithJitterAndNodesDrawApart() {
        var a = ReconnectBackoff(initialNanoseconds: 1000, maximumNanoseconds: 16000, seed: 1)
        var b = ReconnectBackoff(initialNanoseconds: 1000, maximumNanoseconds: 16000, seed: 2)
        var waitsA: [Int64] = [], waitsB: [Int64] = []
        for _ in 0..<8 { waitsA.append(a.failed()); waitsB.append(b.failed()) }
        let steps: [Int64] = [1000, 2000, 4000, 8000, 16000, 16000, 16000, 16000]
        for (w, s) in zip(waitsA, steps) { #expect(w >= s / 2 && w <= s, "wait \(w) for step \(s)") }
        #expect(waitsA != waitsB, "two nodes drew the same waits")
        #expect(Set(waitsA.suffix(4)).count > 1, "no jitter at the cap")
        a.connected()
        #expect(a.currentStepNanoseconds == 1000)
    }
}

/// A test CA, a server certificate for 127.0.0.1, a client certificate, and a stranger's
/// certificate from another CA, made with openssl.
struct TestCertificates {
    let ca, serverCert, serverKey, clientCert, clientKey, strangerCert, strangerKey: String
    /// A server certificate for 127.0.0.1 from the stranger's CA, and one from the test CA for
    /// another host name only.
    let strangerServerCert, strangerServerKey, wrongNameCert, wrongNameKey: String

    init(directory d: String) throws {
        ca = "\(d)/ca.crt"; serverCert = "\(d)/server.crt"; serverKey = "\(d)/server.key"
        clientCert = "\(d)/client.crt"; clientKey = "\(d)/client.key"; strangerCert = "\(d)/stranger.crt"; strangerKey = "\(d)/stranger.key"
        strangerServerCert = "\(d)/sserver.crt"; strangerServerKey = "\(d)/sserver.key"; wrongNameCert = "\(d)/wrong.crt"; wrongNameKey = "\(d)/wrong.key"
        let r = try ChildProcess.run("/bin/bash", [TestPaths.repositoryRoot + "/Tests/Peers/test-certificates.sh", d], timeoutSeconds: 60)
        guard r.status == 0 else { throw ChildProcess.SpawnError(description: "openssl: \(r.output)") }
    }
}
