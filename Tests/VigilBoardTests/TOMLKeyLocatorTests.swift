import Testing
@testable import VigilBoard

@Suite struct TOMLKeyLocatorTests {
    let text = """
    schema = 1
    [board]
    name = "x"   # a comment with = and [brackets]
    [[sensors]]
    name = "a"
    [sensors.analysis]
    block = 64
    [[sensors]]
    name = "b"
    line = { chip = "c", line = "L" }
    multi = [
      1,
      { deep = 2 },
    ]
    [channels."a.x.velocity_rms"]
    deadband = 0.1
    text = \"\"\"
    not = a key
    \"\"\"
    after = 3
    """

    func line(_ segments: [ProfileKeyPath.Segment]) -> Int? {
        TOMLKeyLocator(text: text).exactLine(for: ProfileKeyPath(segments))
    }

    @Test func findsKeysInTablesAndArraysOfTables() {
        #expect(line([.key("schema")]) == 1)
        #expect(line([.key("board"), .key("name")]) == 3)
        #expect(line([.key("sensors"), .index(0), .key("name")]) == 5)
        #expect(line([.key("sensors"), .index(0), .key("analysis"), .key("block")]) == 7)
        #expect(line([.key("sensors"), .index(1), .key("name")]) == 9)
    }

    @Test func findsKeysInsideInlineTablesAndMultiLineArrays() {
        #expect(line([.key("sensors"), .index(1), .key("line"), .key("chip")]) == 10)
        #expect(line([.key("sensors"), .index(1), .key("multi"), .index(1), .key("deep")]) == 13)
    }

    @Test func handlesQuotedKeysAndSkipsMultiLineStrings() {
        #expect(line([.key("channels"), .key("a.x.velocity_rms"), .key("deadband")]) == 16)
        #expect(line([.key("channels"), .key("a.x.velocity_rms"), .key("after")]) == 20)
        #expect(line([.key("not")]) == nil)
    }

    @Test func fallsBackToTheNearestParent() {
        let locator = TOMLKeyLocator(text: text)
        #expect(locator.line(for: ProfileKeyPath([.key("sensors"), .index(1), .key("missing")])) == 8)
    }

    @Test func pathsPrintLikeTOML() {
        #expect(ProfileKeyPath([.key("sensors"), .index(2), .key("registers"), .index(0), .key("address")]).description == "sensors[2].registers[0].address")
        #expect(ProfileKeyPath([.key("channels"), .key("a.b"), .key("deadband")]).description == "channels.\"a.b\".deadband")
    }
}
