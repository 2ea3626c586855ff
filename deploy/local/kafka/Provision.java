// The bus's principals and ACLs as the catalog says (sme_runtime.bus_acl), applied through Kafka's Admin API in
// one JVM: java -cp "$KAFKA_LIBS/*" Provision.java admin.properties users.tsv bindings.tsv
// users.tsv: name<TAB>password (SCRAM-SHA-512 upserted); bindings.tsv: principal, TOPIC|GROUP, LITERAL|PREFIXED,
// name, operation (ALLOW from any host). ACLs not in bindings.tsv are deleted: the file is the whole truth.
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Properties;
import java.util.Set;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ScramCredentialInfo;
import org.apache.kafka.clients.admin.ScramMechanism;
import org.apache.kafka.clients.admin.UserScramCredentialAlteration;
import org.apache.kafka.clients.admin.UserScramCredentialUpsertion;
import org.apache.kafka.common.acl.AccessControlEntry;
import org.apache.kafka.common.acl.AclBinding;
import org.apache.kafka.common.acl.AclBindingFilter;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.acl.AclPermissionType;
import org.apache.kafka.common.resource.PatternType;
import org.apache.kafka.common.resource.ResourcePattern;
import org.apache.kafka.common.resource.ResourceType;

public class Provision {
    public static void main(String[] args) throws Exception {
        Properties admin = new Properties();
        try (var reader = Files.newBufferedReader(Path.of(args[0]))) {
            admin.load(reader);
        }
        try (Admin client = Admin.create(admin)) {
            List<UserScramCredentialAlteration> users = new ArrayList<>();
            for (String[] f : rows(args[1], 2)) {
                users.add(new UserScramCredentialUpsertion(f[0],
                        new ScramCredentialInfo(ScramMechanism.SCRAM_SHA_512, 8192), f[1]));
            }
            if (!users.isEmpty()) {
                client.alterUserScramCredentials(users).all().get();
            }
            Set<AclBinding> wanted = new HashSet<>();
            for (String[] f : rows(args[2], 5)) {
                wanted.add(new AclBinding(
                        new ResourcePattern(ResourceType.valueOf(f[1]), f[3], PatternType.valueOf(f[2])),
                        new AccessControlEntry(f[0], "*", AclOperation.valueOf(f[4]), AclPermissionType.ALLOW)));
            }
            client.createAcls(wanted).all().get();
            List<AclBindingFilter> stale = new ArrayList<>();
            for (AclBinding existing : client.describeAcls(AclBindingFilter.ANY).values().get()) {
                if (!wanted.contains(existing)) {
                    stale.add(existing.toFilter());
                }
            }
            if (!stale.isEmpty()) {
                client.deleteAcls(stale).all().get();
            }
            System.out.printf("[local] bus provisioned: %d SCRAM users, %d ACLs (%d stale removed)%n",
                    users.size(), wanted.size(), stale.size());
        }
    }

    private static List<String[]> rows(String file, int columns) throws Exception {
        List<String[]> out = new ArrayList<>();
        for (String line : Files.readAllLines(Path.of(file))) {
            if (line.isBlank()) {
                continue;
            }
            String[] fields = line.split("\t");
            if (fields.length != columns) {
                throw new IllegalArgumentException(file + ": expected " + columns + " columns: " + line);
            }
            out.add(fields);
        }
        return out;
    }
}
