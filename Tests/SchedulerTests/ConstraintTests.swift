import Manifests
import Scheduler
import Testing

@Suite struct ConstraintTests {
    @Test(arguments: [
        ("zone == a", PlacementConstraint(label: "zone", op: .equal, value: "a")),
        ("disk != hdd", PlacementConstraint(label: "disk", op: .notEqual, value: "hdd")),
        ("zone==a", PlacementConstraint(label: "zone", op: .equal, value: "a")),
        ("  rack  !=  r1 ", PlacementConstraint(label: "rack", op: .notEqual, value: "r1")),
        ("node.kind == gpu-2", PlacementConstraint(label: "node.kind", op: .equal, value: "gpu-2")),
    ])
    func parses(text: String, expected: PlacementConstraint) throws {
        #expect(try PlacementConstraint.parse(text).get() == expected)
    }

    @Test(arguments: [
        ("", "constraint `` is empty; expected LABEL == VALUE or LABEL != VALUE"),
        ("zone a", "constraint `zone a` has no operator; expected LABEL == VALUE or LABEL != VALUE"),
        (
            "zone = a",
            "constraint `zone = a` has no operator; expected LABEL == VALUE or LABEL != VALUE; `=` is not an operator, write `==`"
        ),
        ("== a", "constraint `== a` has no label before `==`"),
        ("zone !=", "constraint `zone !=` has no value after `!=`"),
        ("zone == a == b", "constraint `zone == a == b` value `a == b` contains `=` or `!`; one operator per constraint"),
        ("zone == a=b", "constraint `zone == a=b` value `a=b` contains `=` or `!`; one operator per constraint"),
        ("my zone == a", "constraint `my zone == a` label `my zone` contains a space"),
    ])
    func refuses(text: String, message: String) {
        switch PlacementConstraint.parse(text) {
        case .success(let constraint):
            Issue.record("parsed \(constraint)")
        case .failure(let error):
            #expect(error.description == message)
        }
    }

    @Test func equalNeedsTheLabel() {
        let zoneA = constraint("zone == a")
        #expect(zoneA.admits(host("h1", ["zone": "a"])))
        #expect(!zoneA.admits(host("h2", ["zone": "b"])))
        #expect(!zoneA.admits(host("h3")))
    }

    @Test func notEqualAdmitsAHostWithoutTheLabel() {
        let notHDD = constraint("disk != hdd")
        #expect(notHDD.admits(host("h1", ["disk": "ssd"])))
        #expect(!notHDD.admits(host("h2", ["disk": "hdd"])))
        #expect(notHDD.admits(host("h3")))
    }

    @Test func describesItselfAsWritten() {
        #expect(constraint("zone==a").description == "zone == a")
    }

    @Test func appAdmitsOnlyWhenEveryConstraintDoes() {
        let web = app(replicas: 1, constraints: ["zone == a", "disk != hdd"])
        #expect(web.admits(host("h1", ["zone": "a", "disk": "ssd"])))
        #expect(!web.admits(host("h2", ["zone": "a", "disk": "hdd"])))
        #expect(!web.admits(host("h3", ["disk": "ssd"])))
    }
}
