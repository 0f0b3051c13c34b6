# Peer of the build benchmark: a one-process Python script that makes the same transfer fine-tuning data from
# translated KD records (per record: a TCOT instance, four translation instances with a drawn template in the
# source text's language, a recovery-KD instance; special tokens checked in every text), mixes them by group
# with a 2,000-instance validation split, and writes LLaMA-Factory sharegpt JSONL. CPU seconds are the process's.
import json, os, random, resource, sys, time

records_path, templates_path, out_dir = sys.argv[1], sys.argv[2], sys.argv[3]
start, cpu = time.perf_counter(), time.process_time()
templates = json.load(open(templates_path, encoding="utf8"))["templates"]
by_lang = {}
for template in templates:
    by_lang.setdefault(template["lang"], []).append(template["text"])
names = {("en", "en"): "English", ("th", "en"): "Thai", ("en", "th"): "อังกฤษ", ("th", "th"): "ไทย"}
tokens = ["<EN>", "<RESPONSE>", "<TH>"]
rng = random.Random(42)

def part(record, field):
    text = record[field]
    if not isinstance(text, str) or not text.strip():
        raise ValueError(f"{record['id']}: {field} must be a non-empty string")
    if "<" in text and any(token in text for token in tokens):
        raise ValueError(f"{record['id']}: {field} holds a special token")
    return text.strip()

def translation(group, part_name, source, source_lang, target, target_lang):
    template = rng.choice(by_lang.get(source_lang) or by_lang["en"])
    lang = source_lang if source_lang in by_lang else "en"
    query = template.replace("{source_language}", names[(source_lang, lang)]).replace("{target_language}", names[(target_lang, lang)]).replace("{source}", source)
    return {"id": f"{group}:{part_name}:translation:{source_lang}-{target_lang}", "query": query, "response": f"<{target_lang.upper()}> {target}", "group": group}

instances = []
with open(records_path, encoding="utf8") as lines:
    for line in lines:
        record = json.loads(line)
        rid, lang = record["id"], record["lang"]
        q_en, a_en, q_t, a_t = part(record, "query_en"), part(record, "response_en"), part(record, "query_t"), part(record, "response_t")
        instances.append({"id": f"{rid}:tcot:{lang}", "query": q_t, "response": f"<EN> {q_en} <RESPONSE> {a_en} <{lang.upper()}> {a_t}", "group": rid})
        for name, en, t in (("query", q_en, q_t), ("response", a_en, a_t)):
            instances.append(translation(rid, name, en, "en", t, lang))
            instances.append(translation(rid, name, t, lang, en, "en"))
        instances.append({"id": f"{rid}:recovery-kd", "query": q_en, "response": f"<RESPONSE> {a_en}", "group": rid})
groups = {}
for instance in instances:
    groups.setdefault(instance["group"], []).append(instance)
ordered = [sorted(groups[key], key=lambda i: i["id"]) for key in sorted(groups)]
rng.shuffle(ordered)
train, validation = [], []
for group in ordered:
    (validation if len(validation) + len(group) <= 2000 else train).extend(group)
rng.shuffle(train)
rng.shuffle(validation)
os.makedirs(out_dir, exist_ok=True)
for name, split in (("train", train), ("validation", validation)):
    with open(os.path.join(out_dir, f"{name}.jsonl"), "w", encoding="utf8") as out:
        for instance in split:
            out.write(json.dumps({"conversations": [{"from": "human", "value": instance["query"]}, {"from": "gpt", "value": instance["response"]}]}, ensure_ascii=False) + "\n")
seconds, cpu_seconds = time.perf_counter() - start, time.process_time() - cpu
count = len(train) + len(validation)
print(json.dumps({"records": len(groups), "instances": count, "seconds": seconds, "cpuSeconds": cpu_seconds, "instancesPerCpuSecond": count / cpu_seconds, "maxRssMiB": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
