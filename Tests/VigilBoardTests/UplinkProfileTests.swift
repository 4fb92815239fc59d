import Testing
import TestSupport
import VigilBoard

/// Issue 18 (9, 12): what an `[uplink.mqtt]` table may say about credentials, and the client id
/// a node takes when the profile gives none.
@Suite struct UplinkProfileTests {
    static let base = TestPaths.readText(TestPaths.repositoryRoot + "/Tests/VigilBoardTests/Corpus/46-mqtt-without-broker.toml")!

    func load(_ mqtt: String) -> Result<LoadedProfile, ProfileErrors> {
        let text = Self.base.replacing("[uplink.mqtt]  # expect uplink.mqtt.broker: missing; expected a broker URI\nversion = \"5\"\n",
                                       with: "[uplink.mqtt]\n" + mqtt)
        do { return .success(try BoardProfileLoader.load(bytes: Array(text.utf8), path: "p.toml")) } catch { return .failure(error) }
    }

    @Test func aPasswordInClearTextNeedsToBeAllowedOutright() throws {
        let secrets = "username_file = \"/etc/vigil/u\"\npassword_file = \"/etc/vigil/p\"\n"
        guard case .failure(let e) = load("broker = \"tcp://gw:1883\"\n" + secrets) else { Issue.record("accepted"); return }
        #expect(e.diagnostics.contains { $0.key == "uplink.mqtt.password_file" && $0.message.contains("clear text") }, "\(e.diagnostics)")
        #expect(throws: Never.self) { try load("broker = \"tcp://gw:1883\"\nallow_plaintext_password = true\n" + secrets).get() }
        #expect(throws: Never.self) { try load("broker = \"ssl://gw:8883\"\n" + secrets).get() }
    }

    @Test func theDefaultClientIDNamesTheSiteAndTheNode() throws {
        let loaded = try load("broker = \"ssl://gw:8883\"\n").get()
        let asset = loaded.profile.asset
        #expect(loaded.profile.uplink.mqtt?.clientID == "vigil-\(asset.site)-\(asset.node)")
        #expect(MQTTSpec.defaultClientID(site: "plant-a", node: "n1") != MQTTSpec.defaultClientID(site: "plant-b", node: "n1"))
    }

    /// Issue 18 (14): a topic prefix must be a topic name: no wildcards, no NUL, not the broker's `$`.
    @Test(arguments: ["plant/+", "vigil/#", "$SYS/vigil", "/vigil", "vigil/", ""])
    func aTopicPrefixThatIsNoTopicNameIsRefused(prefix: String) throws {
        guard case .failure(let e) = load("broker = \"ssl://gw:8883\"\ntopic_prefix = \"\(prefix)\"\n") else { Issue.record("accepted \(prefix)"); return }
        #expect(e.diagnostics.contains { $0.key == "uplink.mqtt.topic_prefix" && $0.line != nil }, "\(e.diagnostics)")
    }

    /// An escaped NUL would reach the parser's C strings and cut the value short: refused, with its line.
    @Test func anEscapedNULIsRefusedWithItsLine() throws {
        guard case .failure(let e) = load("broker = \"ssl://gw:8883\"\ntopic_prefix = \"vi\\u0000gil\"\n") else { Issue.record("accepted"); return }
        #expect(e.diagnostics.contains { $0.message.contains("NUL") && $0.line != nil }, "\(e.diagnostics)")
    }

    @Test func aMultiLevelTopicPrefixIsAccepted() throws {
        let loaded = try load("broker = \"ssl://gw:8883\"\ntopic_prefix = \"plant-7/vigil\"\n").get()
        #expect(loaded.profile.uplink.mqtt?.topicPrefix == "plant-7/vigil")
    }
}
