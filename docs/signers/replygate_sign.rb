# replygate_sign.rb - sign replygate reply addresses and notification
# Message-IDs in Ruby (SPEC sections 2 and 3; known answers in
# docs/test-vectors.json). Standard library only; copy it into your application.
#
#   keys = ReplygateSign.load_secrets("/etc/replygate/secrets")
#   reply_to = ReplygateSign.sign(keys[0], "i", 1, 5, "reply.example.com")
#   message_id = ReplygateSign.message_id(keys[0], "i", 1, 5, "reply.example.com")
#
# Command line: ruby replygate_sign.rb SECRETS_FILE DOMAIN KIND TARGET USER [SUFFIX]
# prints the address, or the Message-ID when SUFFIX is given ("-": a fresh one).
# With "--batch" instead of KIND TARGET USER it reads such lines (tab-separated)
# from standard input and prints one line for each: the answer or "error: why".
require "openssl"
require "securerandom"

module ReplygateSign
  MAX_ID = 2**64 - 1

  # The keys of a secrets file: one a line, a CR before the LF dropped,
  # blank lines and lines starting with '#' skipped, each >= 32 bytes.
  def self.load_secrets(path)
    keys = []
    File.binread(path).split("\n", -1).each_with_index do |line, i|
      line = line.chomp("\r")
      next if line.empty? || line.start_with?("#")
      raise ArgumentError, "#{path}:#{i + 1}: a secret needs at least 32 bytes" if line.bytesize < 32
      keys << line
    end
    raise ArgumentError, "#{path} holds no secret" if keys.empty?
    keys
  end

  def self.number(value, what, lowest)
    text = value.to_s
    unless text.match?(/\A(0|[1-9][0-9]{0,19})\z/) && text.to_i.between?(lowest, MAX_ID)
      raise ArgumentError, "#{what} must be a decimal number from #{lowest} to 2^64-1: #{value.inspect}"
    end
    text
  end

  # The reply address for kind, target and user, signed with key (a String of bytes).
  def self.sign(key, kind, target, user, domain, prefix: "reply", separator: "+")
    raise ArgumentError, "kind must be 1 to 16 of a-z: #{kind.inspect}" unless kind.match?(/\A[a-z]{1,16}\z/)
    target = number(target, "target", 1)
    user = number(user, "user", 0)
    mac = OpenSSL::HMAC.hexdigest("SHA256", key, "#{kind}-#{target}-#{user}")[0, 40]
    "#{prefix}#{separator}#{kind}-#{target}-#{mac}-#{user}@#{domain}"
  end

  # A unique Message-ID (with its angle brackets) that names the same key.
  def self.message_id(key, kind, target, user, domain, suffix = nil, **kw)
    suffix ||= "#{Time.now.utc.strftime('%Y%m%dT%H%M%SZ')}.#{SecureRandom.hex(8)}"
    unless suffix.match?(/\A[A-Za-z0-9._-]{1,64}\z/)
      raise ArgumentError, "the suffix must be 1 to 64 of A-Z a-z 0-9 . _ -: #{suffix.inspect}"
    end
    local, _, host = sign(key, kind, target, user, domain, **kw).rpartition("@")
    "<#{local}.#{suffix}@#{host}>"
  end
end

if $PROGRAM_NAME == __FILE__
  # answer - one command line's answer: an address, or a Message-ID with a suffix
  answer = lambda do |key, domain, args|
    case args.length
    when 4 then ReplygateSign.message_id(key, *args[0, 3], domain, args[3] == "-" ? nil : args[3])
    when 3 then ReplygateSign.sign(key, *args, domain)
    else raise ArgumentError, "want KIND TARGET USER [SUFFIX]"
    end
  end
  batch = ARGV.length == 3 && ARGV[2] == "--batch"
  unless batch || [5, 6].include?(ARGV.length)
    warn "usage: ruby replygate_sign.rb SECRETS_FILE DOMAIN KIND TARGET USER [SUFFIX] | --batch"
    exit 64
  end
  begin
    key = ReplygateSign.load_secrets(ARGV[0])[0]
    unless batch
      puts answer.call(key, ARGV[1], ARGV[2..])
      exit 0
    end
  rescue ArgumentError, SystemCallError => e
    warn "replygate_sign.rb: #{e.message}"
    exit 65
  end
  $stdin.each_line do |line|
    puts answer.call(key, ARGV[1], line.chomp("\n").split("\t", -1))
  rescue ArgumentError => e
    puts "error: #{e.message}"
  end
end
