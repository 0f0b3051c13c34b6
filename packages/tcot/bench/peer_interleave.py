# Peer of the interleave benchmark: the straightforward in-memory way to insert translation instances at random
# positions between English lines (hold both lists, shuffle a merged order), as a Python data-prep script does it.
import json, random, resource, sys, time

pairs, english = int(sys.argv[1]), int(sys.argv[2])
articles = json.load(open(sys.argv[3], encoding="utf8"))
start = time.perf_counter()
instances = []
for index in range(pairs):
    _, source, target = articles[index % len(articles)]
    source, target = f"{index} {source}", f"{index} {target}"
    instances.append(f"{source} <TH> {target}")
    instances.append(f"{target} <EN> {source}")
lines = [f"{index} {articles[(index + 7) % len(articles)][1]}" for index in range(english)]
order = [True] * len(instances) + [False] * len(lines)
random.seed(1)
random.shuffle(order)
it_instances, it_lines = iter(instances), iter(lines)
count = characters = 0
for is_instance in order:
    line = next(it_instances) if is_instance else next(it_lines)
    count += 1
    characters += len(line) + 1
seconds = time.perf_counter() - start
print(json.dumps({"pairs": pairs, "englishLines": english, "lines": count, "megabytes": characters / 1e6, "seconds": seconds, "linesPerSecond": count / seconds, "maxRssMiB": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
