import Foundation
import Pipeline
import Shards
import Support
import Testing

@Suite struct PlanAndRecordTests {
    @Test func planPartitionsEveryShardIntoBalancedClassShares() {
        let plan = BuildPlan(classes: [1, 4, 7], perClass: 10, shardSize: 7, maxAttempts: 200)
        #expect(plan.totalSamples == 30 && plan.shardCount == 5)
        var seen: [Int] = []
        for s in 0..<plan.shardCount {
            var inShard: [Int] = []
            for j in 0..<3 {
                let idx = plan.indices(shard: s, position: j)
                #expect(idx.allSatisfy { $0 % 3 == j && plan.range(ofShard: s).contains($0) })
                inShard += idx
            }
            #expect(inShard.sorted() == Array(plan.range(ofShard: s)))
            seen += inShard
        }
        #expect(seen.sorted() == Array(0..<30))
        // The budget of a class's units adds up to at least its max attempts, never much more.
        let total = (0..<plan.shardCount).reduce(0) { $0 + plan.budget(needed: plan.indices(shard: $1, position: 0).count) }
        #expect(total >= 200 && total < 200 + plan.shardCount)
        #expect(plan.shards(worker: 1, of: 3) == [1, 4])
    }

    @Test func roundSizesFollowThePassRateWithinTheBudget() {
        // First round: what is needed (at least a preferred batch when filtering).
        #expect(BuildPlan.roundSize(remaining: 10, generated: 0, passed: 0, budgetLeft: 100, preferred: 4, filtered: true, previous: 0) == 10)
        #expect(BuildPlan.roundSize(remaining: 10, generated: 0, passed: 0, budgetLeft: 100, preferred: 64, filtered: true, previous: 0) == 64)
        // Half passed: twice the remainder plus 25%.
        #expect(BuildPlan.roundSize(remaining: 8, generated: 20, passed: 10, budgetLeft: 1000, preferred: 1, filtered: true, previous: 20) == 20)
        #expect(BuildPlan.roundSize(remaining: 8, generated: 20, passed: 10, budgetLeft: 1000, preferred: 64, filtered: true, previous: 20) == 64)
        // Nothing passed yet: double.
        #expect(BuildPlan.roundSize(remaining: 8, generated: 20, passed: 0, budgetLeft: 1000, preferred: 4, filtered: true, previous: 20) == 32)
        #expect(BuildPlan.roundSize(remaining: 8, generated: 20, passed: 0, budgetLeft: 5, preferred: 4, filtered: true, previous: 20) == 5)
        #expect(BuildPlan.roundSize(remaining: 0, generated: 20, passed: 20, budgetLeft: 5, preferred: 4, filtered: true, previous: 20) == 0)
        #expect(BuildPlan.roundSize(remaining: 7, generated: 0, passed: 0, budgetLeft: 100, preferred: 64, filtered: false, previous: 0) == 7)
    }

    @Test func sampleJSONIsCompactSortedAndRoundTrips() throws {
        let r = SampleRecord(classIndex: 2, className: "Pull\"over\\\n/x", source: "gan", confidence: 0.75,
                             probs: [0.125, 0.125, 0.75], seed: 18_446_744_073_709_551_615, slot: 3, batch: 64)
        let text = String(decoding: r.json(), as: UTF8.self)
        #expect(text == #"{"batch":64,"class":2,"class_name":"Pull\"over\\\n/x","confidence":0.75,"probs":[0.125,0.125,0.75],"seed":"18446744073709551615","slot":3,"source":"gan"}"#)
        let back = try SampleRecord.parse(r.json()).get()
        #expect(back == r)
        // Floats print as their shortest round-trip spelling.
        let odd = SampleRecord(classIndex: 0, className: "a", source: "s", confidence: 0.99999994, probs: [0.99999994, 5e-08])
        #expect(String(decoding: odd.json(), as: UTF8.self) == #"{"class":0,"class_name":"a","confidence":0.99999994,"probs":[0.99999994,5e-08],"source":"s"}"#)
        #expect(try SampleRecord.parse(odd.json()).get().probs == [0.99999994, 5e-08])
        let real = SampleRecord(classIndex: 1, className: "Trouser", source: "pack:fashion-mnist:train")
        #expect(String(decoding: real.json(), as: UTF8.self) == #"{"class":1,"class_name":"Trouser","source":"pack:fashion-mnist:train"}"#)
    }

    @Test func classSelection() throws {
        let names = ["a", "b", "c", "d"]
        #expect(try ClassSelection.parse(nil, classNames: names, origin: "x") == [0, 1, 2, 3])
        #expect(try ClassSelection.parse("2", classNames: names, origin: "x") == [0, 1])
        #expect(try ClassSelection.parse("3,", classNames: names, origin: "x") == [3])
        #expect(try ClassSelection.parse("d,1", classNames: names, origin: "x") == [1, 3])
        #expect(throws: SynthError.self) { try ClassSelection.parse("5", classNames: names, origin: "x") }
        #expect(throws: SynthError.self) { try ClassSelection.parse("1,b", classNames: names, origin: "x") }
        #expect(throws: SynthError.self) { try ClassSelection.parse("e", classNames: names, origin: "x") }
        #expect(throws: SynthError.self) { try ClassSelection.parse("0", classNames: names, origin: "x") }
    }

    @Test func workerSelectionFromFlagsAndJobArrays() throws {
        #expect(try WorkerSelection.resolve(workers: nil, worker: nil, environment: ["JOB_COMPLETION_INDEX": "1"]) == nil)
        #expect(try WorkerSelection.resolve(workers: 3, worker: 2, environment: [:]) == PartInfo(worker: 2, workers: 3))
        #expect(try WorkerSelection.resolve(workers: 3, worker: nil, environment: ["JOB_COMPLETION_INDEX": "1"]) == PartInfo(worker: 1, workers: 3))
        #expect(try WorkerSelection.resolve(workers: 3, worker: nil, environment: ["SLURM_ARRAY_TASK_ID": "0"]) == PartInfo(worker: 0, workers: 3))
        #expect(throws: SynthError.self) { try WorkerSelection.resolve(workers: 3, worker: nil, environment: [:]) }
        #expect(throws: SynthError.self) { try WorkerSelection.resolve(workers: 3, worker: 3, environment: [:]) }
        #expect(throws: SynthError.self) { try WorkerSelection.resolve(workers: nil, worker: 0, environment: [:]) }
        #expect(throws: SynthError.self) { try WorkerSelection.resolve(workers: 2, worker: nil, environment: ["SLURM_ARRAY_TASK_ID": "x"]) }
    }

    @Test func shardFileNames() {
        #expect(ShardFiles.shard("fm", 3) == "fm-000003.tar")
        #expect(ShardFiles.partial("fm", 3) == ".fm-000003.tar.partial")
        #expect(ShardFiles.key(42) == "000000042")
        #expect(ShardFiles.parsePart("manifest.part-2-of-3.json")! == (2, 3))
        #expect(ShardFiles.parsePart("manifest.part-3-of-3.json") == nil)
        #expect(ShardFiles.shardIndex("fm-000012.tar", name: "fm") == 12)
        #expect(ShardFiles.shardIndex("fm-x.tar", name: "fm") == nil)
    }
}
