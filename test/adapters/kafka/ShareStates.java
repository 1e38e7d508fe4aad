// Puts a share group in every state with Kafka's own clients: args bootstrap topic group.
// Produces 12 records (6 per partition), then one KafkaShareConsumer (explicit acknowledgement)
// accepts 4, releases 3, rejects 2 and keeps 3 acquired; prints READY and holds them until stdin closes.
import java.util.*;
import org.apache.kafka.clients.admin.*;
import org.apache.kafka.clients.consumer.*;
import org.apache.kafka.clients.producer.*;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.serialization.*;

public class ShareStates {
  public static void main(String[] a) throws Exception {
    String bs = a[0], topic = a[1], group = a[2];
    Properties ap = new Properties();
    ap.put("bootstrap.servers", bs);
    try (Admin admin = Admin.create(ap)) {
      ConfigResource res = new ConfigResource(ConfigResource.Type.GROUP, group);
      admin.incrementalAlterConfigs(Map.of(res, List.of(new AlterConfigOp(new ConfigEntry("share.auto.offset.reset", "earliest"), AlterConfigOp.OpType.SET)))).all().get();
    }
    Properties pp = new Properties();
    pp.put("bootstrap.servers", bs);
    try (Producer<String, String> p = new KafkaProducer<>(pp, new StringSerializer(), new StringSerializer())) {
      for (int i = 0; i < 12; i++) p.send(new ProducerRecord<>(topic, i % 2, "k" + i, "v" + i));
      p.flush();
    }
    Properties cp = new Properties();
    cp.put("bootstrap.servers", bs);
    cp.put("group.id", group);
    cp.put("share.acknowledgement.mode", "explicit");
    cp.put("max.poll.records", "12");
    KafkaShareConsumer<String, String> c = new KafkaShareConsumer<>(cp, new StringDeserializer(), new StringDeserializer());
    c.subscribe(List.of(topic));
    // decisions by arrival: 0-3 accept, 4-6 release, 7-8 reject, the rest of the last poll stays acquired
    Map<String, String> last = new TreeMap<>();
    int n = 0;
    long deadline = System.currentTimeMillis() + 30000;
    while (n < 10 && System.currentTimeMillis() < deadline) {
      for (ConsumerRecord<String, String> r : c.poll(java.time.Duration.ofMillis(500))) {
        String id = r.partition() + ":" + r.offset();
        if (n < 4) { c.acknowledge(r, AcknowledgeType.ACCEPT); last.put(id, "accept"); }
        else if (n < 7) { c.acknowledge(r, AcknowledgeType.RELEASE); last.put(id, "release"); }
        else if (n < 9) { c.acknowledge(r, AcknowledgeType.REJECT); last.put(id, "reject"); }
        else last.put(id, "acquired");
        n++;
      }
      if (n < 10) c.commitSync();
    }
    if (n < 10) throw new IllegalStateException("acquired only " + n + " records");
    c.commitSync();
    long done = last.values().stream().filter(v -> v.equals("accept") || v.equals("reject")).count();
    long acquired = last.values().stream().filter(v -> v.equals("acquired")).count();
    System.out.println("READY pending=" + (12 - done) + " acquired=" + acquired + " " + last);
    System.out.flush();
    while (System.in.read() >= 0) { }
    c.close();
  }
}
