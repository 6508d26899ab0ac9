#!/usr/bin/env bash
# Install Apache Kafka (KRaft) jars from Maven Central into $DINAMIS_CACHE/kafka/<version>/libs.
# Idempotent: does nothing when the jars are already there.
set -euo pipefail
KAFKA_VERSION="${KAFKA_VERSION:-4.3.1}"
LOG4J_VERSION="${LOG4J_VERSION:-2.25.2}"
SLF4J_VERSION="${SLF4J_VERSION:-2.0.17}"
CACHE="${DINAMIS_CACHE:-$HOME/.cache/dinamis}"
DEST="$CACHE/kafka/$KAFKA_VERSION"
if [ -f "$DEST/.complete" ]; then echo "kafka $KAFKA_VERSION already installed in $DEST"; exit 0; fi
mkdir -p "$DEST"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
cat > "$WORK/pom.xml" <<POM
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>fr.dinamis.local</groupId><artifactId>kafka-runtime</artifactId><version>1</version>
  <dependencies>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka_2.13</artifactId><version>$KAFKA_VERSION</version></dependency>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka-tools</artifactId><version>$KAFKA_VERSION</version></dependency>
    <!-- Kafka's POM resolves slf4j 1.7, which ignores the log4j2 binding: pin 2.0.x or the broker logs nothing. -->
    <dependency><groupId>org.slf4j</groupId><artifactId>slf4j-api</artifactId><version>$SLF4J_VERSION</version></dependency>
    <dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-slf4j2-impl</artifactId><version>$LOG4J_VERSION</version></dependency>
    <dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-core</artifactId><version>$LOG4J_VERSION</version></dependency>
  </dependencies>
  <dependencyManagement><dependencies>
    <dependency><groupId>org.slf4j</groupId><artifactId>slf4j-api</artifactId><version>$SLF4J_VERSION</version></dependency>
  </dependencies></dependencyManagement>
</project>
POM
echo "resolving kafka $KAFKA_VERSION jars from Maven Central..."
mvn -q -B -f "$WORK/pom.xml" dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$DEST/libs"
# slf4j 1.7 must not sit beside 2.0
rm -f "$DEST"/libs/slf4j-api-1.*.jar
touch "$DEST/.complete"
echo "kafka $KAFKA_VERSION installed in $DEST"
