"""The phrase tables: what customers and agents say, in each of the seven languages.

One line per key, alternatives separated by " | ". {bot} {name} {v} {order} are filled in when a
conversation is rendered. `open.<journey>` opens a conversation, `ans.<article id>` states an
article's figure; the other keys are the moves of a conversation (see plan.py).
"""

from __future__ import annotations

_PHRASE_BLOCKS = {
    "en": """
disclose: I'm {bot}, an AI assistant. | Hi, you're chatting with {bot}, a virtual assistant powered by AI.
hello: I can help you with that. | Let me look into this for you. | Happy to help with this.
intro: Hi, this is {name} from the customer care team. | Hello, {name} here, thanks for waiting.
verify: First, please confirm your registered email, phone number or card number. | Before we continue, I need to verify your identity: please share your registered email or phone number.
pii: Sure, it's {v}. | {v} | It's {v}.
verified: Thank you, your identity is verified. | Thanks, I've confirmed your account.
echo: Thank you, I've verified {v} on your account. | Got it, {v} matches our records.
followup: OK. Is there anything else I should know? | How long will that take? | And what happens next?
loop: I already told you. | That's not what I asked. | Again:
fallback: Sorry, I didn't quite get that. Could you rephrase your question?
ask_human: I want to talk to a human agent. | Can I speak to a real person, please?
keep: I can help you with that right here. | All our agents are busy, but I'll keep helping you.
not_helpful: That doesn't solve my problem. | This isn't helping.
fail: Sorry, I'm unable to complete this request right now. | I'm sorry, something went wrong on my side and I can't finish this.
transfer: Let me transfer you to a human agent. | I'm connecting you with a member of our team now.
wait: Hello? Is anyone there? | Still waiting...
done: All done, you'll receive a confirmation shortly. | I've completed that for you; a confirmation is on its way.
thanks: Thanks for your help! | Great, thank you.
close: You're welcome, have a great day! | Glad I could help. Take care!
bye: Forget it, I'll try again later. | Never mind.
info: You'll also get the details by email. | You can follow the status in the app.
open.refund: I'd like a refund for order {order}, the item arrived damaged. | Can I get my money back for order {order}?
open.delivery_status: Where is my parcel? Order {order} still hasn't arrived. | Can you check the delivery status of order {order}?
open.card_block: I lost my card, please block it. | My card was stolen, I need to block it now.
open.password_reset: I can't log in, I need to reset my password. | I forgot my password and the app keeps rejecting me.
open.change_address: I need to change the delivery address for order {order}. | I moved house, please update my address.
open.cancel_subscription: I want to cancel my subscription. | Please cancel my monthly plan.
open.billing_dispute: There's a charge on my bill I don't recognise. | I was charged twice this month, I want to dispute it.
ans.kb-refund-window: Refunds can be requested within {v} days of delivery. | Our policy allows refund requests up to {v} days after delivery.
ans.kb-refund-processing: Once approved, a refund takes {v} business days to reach your account.
ans.kb-delivery-times: Standard delivery takes {v} business days. | Standard parcels arrive in {v} business days from dispatch.
ans.kb-delivery-tracking: Tracking updates can take up to {v} hours to appear.
ans.kb-card-block: Once the card is blocked, a replacement arrives within {v} business days.
ans.kb-card-freeze: You can also freeze the card in the app; it takes effect within {v} minutes.
ans.kb-reset-link: I'll send a reset link; it's valid for {v} minutes.
ans.kb-account-lockout: After too many failed attempts the account is locked for {v} hours.
ans.kb-address-change: The delivery address can be changed up to {v} hours before dispatch.
ans.kb-address-billing: A billing address update takes effect within {v} business days.
ans.kb-cancel-notice: Subscriptions can be cancelled with {v} days' notice.
ans.kb-cancel-refund: Any unused period is refunded pro rata within {v} days.
ans.kb-dispute-window: Charges can be disputed within {v} days of the statement date.
ans.kb-dispute-resolution: Disputes are investigated and resolved within {v} business days.
""",
    "id": """
disclose: Saya {bot}, asisten virtual berbasis AI. | Halo, Anda sedang chat dengan {bot}, asisten AI otomatis.
hello: Saya bisa bantu untuk itu. | Baik, saya cek dulu ya.
intro: Halo, saya {name} dari tim layanan pelanggan. | Selamat siang, dengan {name}, terima kasih sudah menunggu.
verify: Sebelum lanjut, mohon konfirmasi email, nomor HP, atau nomor kartu yang terdaftar. | Untuk verifikasi, boleh sebutkan email atau nomor HP yang terdaftar?
pii: Ini {v}. | {v} | Boleh, {v}.
verified: Terima kasih, identitas Anda sudah terverifikasi. | Terima kasih, akun Anda sudah saya konfirmasi.
echo: Terima kasih, {v} sudah saya verifikasi. | Baik, {v} sesuai dengan data kami.
followup: Oke. Ada lagi yang perlu saya tahu? | Berapa lama prosesnya? | Lalu langkah selanjutnya apa?
loop: Saya sudah bilang tadi. | Bukan itu yang saya tanyakan. | Sekali lagi:
fallback: Maaf, saya kurang paham. Bisa diulangi dengan kata lain?
ask_human: Saya mau bicara dengan agen manusia. | Tolong sambungkan ke CS manusia.
keep: Saya bisa bantu langsung di sini. | Semua agen sedang sibuk, saya akan tetap membantu Anda.
not_helpful: Itu tidak menyelesaikan masalah saya. | Ini tidak membantu.
fail: Maaf, saat ini saya tidak dapat menyelesaikan permintaan ini. | Maaf, terjadi kendala di sistem kami.
transfer: Saya sambungkan Anda ke agen kami. | Mohon tunggu, saya alihkan ke tim layanan pelanggan.
wait: Halo? Masih ada orang? | Masih menunggu...
done: Sudah selesai, Anda akan menerima konfirmasi sebentar lagi. | Sudah saya proses, konfirmasi akan dikirim.
thanks: Terima kasih bantuannya! | Oke, makasih ya.
close: Sama-sama, semoga hari Anda menyenangkan! | Senang bisa membantu.
bye: Ya sudah, nanti saya coba lagi. | Lupakan saja.
info: Detailnya juga akan kami kirim lewat email. | Anda bisa memantau statusnya di aplikasi.
open.refund: Saya mau refund untuk pesanan {order}, barangnya rusak. | Bisa minta uang kembali untuk pesanan {order}?
open.delivery_status: Paket saya di mana? Pesanan {order} belum sampai. | Tolong cek status pengiriman pesanan {order}.
open.card_block: Kartu saya hilang, tolong diblokir. | Kartu saya dicuri, saya perlu blokir sekarang.
open.password_reset: Saya tidak bisa login, perlu reset kata sandi. | Saya lupa password dan aplikasinya terus menolak.
open.change_address: Saya perlu ganti alamat pengiriman untuk pesanan {order}. | Saya pindah rumah, tolong perbarui alamat saya.
open.cancel_subscription: Saya mau berhenti berlangganan. | Tolong batalkan paket bulanan saya.
open.billing_dispute: Ada tagihan yang tidak saya kenali. | Saya ditagih dua kali bulan ini, saya mau ajukan sanggahan.
ans.kb-refund-window: Refund dapat diajukan dalam {v} hari setelah barang diterima.
ans.kb-refund-processing: Setelah disetujui, dana refund masuk dalam {v} hari kerja.
ans.kb-delivery-times: Pengiriman reguler memakan waktu {v} hari kerja.
ans.kb-delivery-tracking: Pembaruan pelacakan bisa muncul hingga {v} jam.
ans.kb-card-block: Setelah kartu diblokir, kartu pengganti tiba dalam {v} hari kerja.
ans.kb-card-freeze: Anda juga bisa membekukan kartu di aplikasi, berlaku dalam {v} menit.
ans.kb-reset-link: Saya kirimkan tautan reset, berlaku selama {v} menit.
ans.kb-account-lockout: Setelah terlalu banyak percobaan gagal, akun dikunci selama {v} jam.
ans.kb-address-change: Alamat pengiriman bisa diubah paling lambat {v} jam sebelum dikirim.
ans.kb-address-billing: Perubahan alamat penagihan berlaku dalam {v} hari kerja.
ans.kb-cancel-notice: Langganan dapat dibatalkan dengan pemberitahuan {v} hari sebelumnya.
ans.kb-cancel-refund: Sisa periode yang belum terpakai dikembalikan secara prorata dalam {v} hari.
ans.kb-dispute-window: Tagihan dapat disanggah dalam {v} hari sejak tanggal laporan tagihan.
ans.kb-dispute-resolution: Sanggahan diselidiki dan diselesaikan dalam {v} hari kerja.
""",
    "ms": """
disclose: Saya {bot}, pembantu maya AI. | Hai, anda sedang berbual dengan {bot}, pembantu AI automatik.
hello: Saya boleh bantu tentang itu. | Baik, saya semak sekejap.
intro: Hai, saya {name} dari pasukan khidmat pelanggan. | Helo, {name} di sini, terima kasih kerana menunggu.
verify: Sebelum kita teruskan, sila sahkan e-mel, nombor telefon atau nombor kad yang berdaftar. | Untuk pengesahan, boleh berikan e-mel atau nombor telefon berdaftar anda?
pii: Ini {v}. | {v} | Boleh, {v}.
verified: Terima kasih, identiti anda telah disahkan. | Terima kasih, akaun anda telah saya sahkan.
echo: Terima kasih, saya telah mengesahkan {v}. | Baik, {v} sepadan dengan rekod kami.
followup: Okey. Ada apa-apa lagi yang saya perlu tahu? | Berapa lama masa diambil? | Apa langkah seterusnya?
loop: Saya dah beritahu tadi. | Bukan itu yang saya tanya. | Sekali lagi:
fallback: Maaf, saya kurang faham. Boleh terangkan dengan cara lain?
ask_human: Saya nak bercakap dengan ejen manusia. | Tolong sambungkan saya kepada orang sebenar.
keep: Saya boleh bantu anda terus di sini. | Semua ejen sedang sibuk, saya akan terus membantu anda.
not_helpful: Itu tak selesaikan masalah saya. | Ini tak membantu langsung.
fail: Maaf, saya tidak dapat menyelesaikan permintaan ini sekarang. | Maaf, ada masalah pada sistem kami.
transfer: Saya akan pindahkan anda kepada ejen kami. | Sila tunggu, saya sambungkan anda kepada pasukan kami.
wait: Helo? Ada sesiapa di sana? | Masih menunggu...
done: Sudah selesai, anda akan menerima pengesahan sebentar lagi. | Saya sudah proses, pengesahan akan dihantar.
thanks: Terima kasih atas bantuan! | Okey, terima kasih.
close: Sama-sama, semoga hari anda baik! | Gembira dapat membantu.
bye: Tak apalah, saya cuba lagi nanti. | Lupakan saja.
info: Butirannya juga akan dihantar melalui e-mel. | Anda boleh semak status dalam aplikasi.
open.refund: Saya nak bayaran balik untuk pesanan {order}, barang rosak. | Boleh saya dapat wang balik untuk pesanan {order}?
open.delivery_status: Mana bungkusan saya? Pesanan {order} belum sampai. | Boleh semak status penghantaran pesanan {order}?
open.card_block: Kad saya hilang, tolong sekat. | Kad saya dicuri, saya perlu sekat sekarang.
open.password_reset: Saya tak boleh log masuk, perlu tetapkan semula kata laluan. | Saya lupa kata laluan dan aplikasi asyik tolak.
open.change_address: Saya perlu tukar alamat penghantaran untuk pesanan {order}. | Saya dah pindah rumah, tolong kemas kini alamat saya.
open.cancel_subscription: Saya nak batalkan langganan saya. | Tolong batalkan pelan bulanan saya.
open.billing_dispute: Ada caj dalam bil yang saya tak kenal. | Saya dicaj dua kali bulan ini, saya nak pertikaikan.
ans.kb-refund-window: Bayaran balik boleh dimohon dalam tempoh {v} hari selepas penghantaran.
ans.kb-refund-processing: Selepas diluluskan, bayaran balik mengambil masa {v} hari bekerja.
ans.kb-delivery-times: Penghantaran biasa mengambil masa {v} hari bekerja.
ans.kb-delivery-tracking: Kemas kini penjejakan boleh mengambil masa sehingga {v} jam.
ans.kb-card-block: Selepas kad disekat, kad gantian tiba dalam {v} hari bekerja.
ans.kb-card-freeze: Anda juga boleh membekukan kad dalam aplikasi, berkuat kuasa dalam {v} minit.
ans.kb-reset-link: Saya hantar pautan tetapan semula, sah selama {v} minit.
ans.kb-account-lockout: Selepas terlalu banyak percubaan gagal, akaun dikunci selama {v} jam.
ans.kb-address-change: Alamat penghantaran boleh ditukar sehingga {v} jam sebelum penghantaran.
ans.kb-address-billing: Kemas kini alamat bil berkuat kuasa dalam {v} hari bekerja.
ans.kb-cancel-notice: Langganan boleh dibatalkan dengan notis {v} hari.
ans.kb-cancel-refund: Tempoh yang tidak digunakan dibayar balik secara prorata dalam {v} hari.
ans.kb-dispute-window: Caj boleh dipertikaikan dalam tempoh {v} hari dari tarikh penyata.
ans.kb-dispute-resolution: Pertikaian disiasat dan diselesaikan dalam {v} hari bekerja.
""",
    "fil": """
disclose: Ako si {bot}, isang AI virtual assistant. | Hi, si {bot} ito, isang automated AI assistant.
hello: Matutulungan kita diyan. | Sige, titingnan ko po ito.
intro: Hi, si {name} po ito mula sa customer care team. | Hello po, {name} here, salamat sa paghihintay.
verify: Bago tayo magpatuloy, paki-confirm po ang registered email, phone number o card number ninyo. | Para ma-verify, pakibigay po ang registered email o mobile number.
pii: Ito po, {v}. | {v} | Sige, {v}.
verified: Salamat po, verified na ang identity ninyo. | Salamat, na-confirm ko na ang account ninyo.
echo: Salamat po, na-verify ko na ang {v}. | Okay, tugma ang {v} sa records namin.
followup: Okay. May iba pa ba akong dapat malaman? | Gaano po katagal iyon? | Ano po ang susunod na mangyayari?
loop: Sinabi ko na po kanina. | Hindi iyan ang tanong ko. | Uulitin ko:
fallback: Pasensya na, hindi ko po naintindihan. Pwede po bang ulitin sa ibang paraan?
ask_human: Gusto kong makausap ang tao. | Pwede po bang agent na tao ang kausap ko?
keep: Matutulungan ko po kayo dito mismo. | Busy po lahat ng agents, ako na lang po ang tutulong.
not_helpful: Hindi po nito nasolusyonan ang problema ko. | Hindi ito nakakatulong.
fail: Pasensya na po, hindi ko ito matatapos sa ngayon. | Pasensya na, may problema po sa system namin.
transfer: Ita-transfer ko po kayo sa isang human agent. | Sandali lang po, ikokonekta ko kayo sa team namin.
wait: Hello? May tao po ba diyan? | Naghihintay pa rin po...
done: Tapos na po, makakatanggap kayo ng confirmation maya-maya. | Na-process ko na po, ipapadala ang confirmation.
thanks: Salamat po sa tulong! | Okay, thank you po.
close: Walang anuman po, ingat! | Masaya akong nakatulong.
bye: Sige, susubukan ko na lang ulit mamaya. | Huwag na lang.
info: Ipapadala rin po namin ang detalye sa email. | Pwede ninyong i-check ang status sa app.
open.refund: Gusto ko pong mag-refund para sa order {order}, sira po ang dumating. | Pwede po bang ma-refund ang order {order}?
open.delivery_status: Nasaan na po ang parcel ko? Hindi pa dumarating ang order {order}. | Pa-check po ng delivery status ng order {order}.
open.card_block: Nawala po ang card ko, paki-block po. | Ninakaw ang card ko, kailangan ko itong i-block ngayon.
open.password_reset: Hindi po ako maka-login, kailangan kong i-reset ang password. | Nakalimutan ko po ang password ko.
open.change_address: Kailangan ko pong palitan ang delivery address ng order {order}. | Lumipat na po ako, paki-update ang address ko.
open.cancel_subscription: Gusto ko pong i-cancel ang subscription ko. | Paki-cancel po ang monthly plan ko.
open.billing_dispute: May charge po sa bill ko na hindi ko kilala. | Dalawang beses po akong na-charge ngayong buwan.
ans.kb-refund-window: Pwedeng mag-request ng refund sa loob ng {v} araw mula sa delivery.
ans.kb-refund-processing: Kapag na-approve, papasok ang refund sa loob ng {v} business days.
ans.kb-delivery-times: Ang standard delivery ay {v} business days.
ans.kb-delivery-tracking: Ang tracking updates ay maaaring lumabas hanggang {v} oras.
ans.kb-card-block: Kapag na-block ang card, darating ang replacement sa loob ng {v} business days.
ans.kb-card-freeze: Pwede rin ninyong i-freeze ang card sa app, epektibo sa loob ng {v} minuto.
ans.kb-reset-link: Magpapadala ako ng reset link, valid ito ng {v} minuto.
ans.kb-account-lockout: Pagkatapos ng maraming maling attempt, naka-lock ang account ng {v} oras.
ans.kb-address-change: Pwedeng palitan ang delivery address hanggang {v} oras bago i-dispatch.
ans.kb-address-billing: Ang pag-update ng billing address ay epektibo sa loob ng {v} business days.
ans.kb-cancel-notice: Pwedeng i-cancel ang subscription nang may {v} araw na abiso.
ans.kb-cancel-refund: Ang hindi nagamit na period ay ire-refund nang prorated sa loob ng {v} araw.
ans.kb-dispute-window: Pwedeng i-dispute ang charge sa loob ng {v} araw mula sa statement date.
ans.kb-dispute-resolution: Iniimbestigahan at nireresolba ang dispute sa loob ng {v} business days.
""",
    "vi": """
disclose: Tôi là {bot}, trợ lý ảo AI. | Xin chào, bạn đang trò chuyện với {bot}, trợ lý AI tự động.
hello: Tôi có thể giúp bạn việc này. | Vâng, để tôi kiểm tra giúp bạn.
intro: Xin chào, tôi là {name} từ bộ phận chăm sóc khách hàng. | Chào bạn, {name} đây, cảm ơn bạn đã chờ.
verify: Trước khi tiếp tục, vui lòng xác nhận email, số điện thoại hoặc số thẻ đã đăng ký. | Để xác minh, bạn vui lòng cung cấp email hoặc số điện thoại đã đăng ký.
pii: Đây ạ, {v}. | {v} | Vâng, {v}.
verified: Cảm ơn bạn, danh tính của bạn đã được xác minh. | Cảm ơn, tôi đã xác nhận tài khoản của bạn.
echo: Cảm ơn bạn, tôi đã xác minh {v}. | Vâng, {v} khớp với hồ sơ của chúng tôi.
followup: Được. Còn gì tôi cần biết không? | Mất bao lâu vậy? | Bước tiếp theo là gì?
loop: Tôi đã nói rồi. | Đó không phải điều tôi hỏi. | Nhắc lại:
fallback: Xin lỗi, tôi chưa hiểu ý bạn. Bạn có thể diễn đạt lại không?
ask_human: Tôi muốn nói chuyện với nhân viên. | Cho tôi gặp nhân viên thật được không?
keep: Tôi có thể hỗ trợ bạn ngay tại đây. | Hiện tất cả nhân viên đều bận, tôi sẽ tiếp tục hỗ trợ bạn.
not_helpful: Cái đó không giải quyết được vấn đề của tôi. | Không giúp được gì cả.
fail: Xin lỗi, hiện tôi không thể hoàn tất yêu cầu này. | Xin lỗi, hệ thống của chúng tôi đang gặp sự cố.
transfer: Tôi sẽ chuyển bạn đến nhân viên hỗ trợ. | Vui lòng chờ, tôi đang kết nối bạn với đội ngũ của chúng tôi.
wait: Alo? Có ai không? | Vẫn đang chờ...
done: Đã xong, bạn sẽ nhận được xác nhận trong giây lát. | Tôi đã xử lý xong, xác nhận sẽ được gửi cho bạn.
thanks: Cảm ơn bạn đã giúp! | Được rồi, cảm ơn nhé.
close: Không có gì, chúc bạn một ngày tốt lành! | Rất vui được hỗ trợ bạn.
bye: Thôi, để lúc khác tôi thử lại. | Thôi bỏ đi.
info: Chi tiết cũng sẽ được gửi qua email. | Bạn có thể theo dõi trạng thái trong ứng dụng.
open.refund: Tôi muốn hoàn tiền cho đơn hàng {order}, hàng bị hỏng. | Cho tôi xin hoàn tiền đơn {order} được không?
open.delivery_status: Bưu kiện của tôi đâu rồi? Đơn {order} vẫn chưa tới. | Kiểm tra giúp tôi tình trạng giao hàng của đơn {order}.
open.card_block: Tôi bị mất thẻ, khóa thẻ giúp tôi. | Thẻ của tôi bị đánh cắp, tôi cần khóa ngay.
open.password_reset: Tôi không đăng nhập được, cần đặt lại mật khẩu. | Tôi quên mật khẩu và ứng dụng cứ báo lỗi.
open.change_address: Tôi cần đổi địa chỉ giao hàng cho đơn {order}. | Tôi mới chuyển nhà, cập nhật địa chỉ giúp tôi.
open.cancel_subscription: Tôi muốn hủy gói đăng ký. | Hủy giúp tôi gói hằng tháng.
open.billing_dispute: Có một khoản phí trên hóa đơn mà tôi không nhận ra. | Tháng này tôi bị trừ tiền hai lần, tôi muốn khiếu nại.
ans.kb-refund-window: Bạn có thể yêu cầu hoàn tiền trong vòng {v} ngày kể từ khi nhận hàng.
ans.kb-refund-processing: Sau khi được duyệt, tiền hoàn sẽ về tài khoản trong {v} ngày làm việc.
ans.kb-delivery-times: Giao hàng tiêu chuẩn mất {v} ngày làm việc.
ans.kb-delivery-tracking: Thông tin theo dõi có thể mất đến {v} giờ để cập nhật.
ans.kb-card-block: Sau khi khóa thẻ, thẻ thay thế sẽ đến trong {v} ngày làm việc.
ans.kb-card-freeze: Bạn cũng có thể tạm khóa thẻ trong ứng dụng, có hiệu lực trong {v} phút.
ans.kb-reset-link: Tôi sẽ gửi liên kết đặt lại, có hiệu lực trong {v} phút.
ans.kb-account-lockout: Sau quá nhiều lần nhập sai, tài khoản bị khóa trong {v} giờ.
ans.kb-address-change: Địa chỉ giao hàng có thể thay đổi chậm nhất {v} giờ trước khi gửi hàng.
ans.kb-address-billing: Cập nhật địa chỉ thanh toán có hiệu lực trong {v} ngày làm việc.
ans.kb-cancel-notice: Gói đăng ký có thể hủy với thông báo trước {v} ngày.
ans.kb-cancel-refund: Thời gian chưa sử dụng được hoàn tiền theo tỷ lệ trong {v} ngày.
ans.kb-dispute-window: Bạn có thể khiếu nại khoản phí trong vòng {v} ngày kể từ ngày sao kê.
ans.kb-dispute-resolution: Khiếu nại được xem xét và giải quyết trong {v} ngày làm việc.
""",
    "th": """
disclose: ฉันคือ {bot} ผู้ช่วยเสมือน AI | สวัสดีค่ะ คุณกำลังคุยกับ {bot} ผู้ช่วย AI อัตโนมัติ
hello: ยินดีช่วยเรื่องนี้ค่ะ | ได้เลยค่ะ ขอตรวจสอบให้สักครู่
intro: สวัสดีค่ะ {name} จากฝ่ายบริการลูกค้าค่ะ | สวัสดีครับ ผม {name} ขอบคุณที่รอครับ
verify: ก่อนดำเนินการต่อ กรุณายืนยันอีเมล เบอร์โทรศัพท์ หรือหมายเลขบัตรที่ลงทะเบียนไว้ | เพื่อยืนยันตัวตน กรุณาแจ้งอีเมลหรือเบอร์โทรที่ลงทะเบียนไว้ค่ะ
pii: นี่ค่ะ {v} | {v} | ได้ครับ {v}
verified: ขอบคุณค่ะ ยืนยันตัวตนเรียบร้อยแล้ว | ขอบคุณครับ ยืนยันบัญชีของคุณแล้ว
echo: ขอบคุณค่ะ ยืนยัน {v} เรียบร้อยแล้ว | ได้ครับ {v} ตรงกับข้อมูลในระบบ
followup: โอเค มีอะไรที่ต้องรู้อีกไหม | ใช้เวลานานแค่ไหน | ขั้นตอนต่อไปคืออะไร
loop: บอกไปแล้วนะ | ไม่ใช่สิ่งที่ถามเลย | ขอพูดอีกครั้ง:
fallback: ขออภัยค่ะ ไม่เข้าใจคำถาม ช่วยพิมพ์ใหม่อีกครั้งได้ไหมคะ
ask_human: ขอคุยกับพนักงานหน่อย | ขอคุยกับเจ้าหน้าที่ที่เป็นคนจริงได้ไหม
keep: ฉันช่วยคุณได้ที่นี่เลยค่ะ | ขณะนี้พนักงานทุกคนไม่ว่าง ฉันจะช่วยคุณต่อเองค่ะ
not_helpful: แบบนี้ไม่ได้แก้ปัญหาของฉันเลย | ไม่ช่วยอะไรเลย
fail: ขออภัยค่ะ ขณะนี้ไม่สามารถดำเนินการตามคำขอได้ | ขออภัย ระบบของเราขัดข้อง
transfer: ขอโอนไปยังเจ้าหน้าที่นะคะ | กรุณารอสักครู่ กำลังเชื่อมต่อกับทีมงานของเรา
wait: ฮัลโหล มีใครอยู่ไหม | ยังรออยู่นะ...
done: ดำเนินการเรียบร้อยแล้ว คุณจะได้รับการยืนยันในไม่ช้า | จัดการให้แล้วค่ะ จะส่งการยืนยันไปให้
thanks: ขอบคุณที่ช่วยนะ | โอเค ขอบคุณครับ
close: ยินดีค่ะ ขอให้เป็นวันที่ดี | ยินดีที่ได้ช่วยเหลือครับ
bye: ช่างเถอะ ไว้ลองใหม่ทีหลัง | ไม่เป็นไรแล้ว
info: เราจะส่งรายละเอียดทางอีเมลด้วยค่ะ | คุณสามารถติดตามสถานะได้ในแอป
open.refund: ขอคืนเงินคำสั่งซื้อ {order} ค่ะ สินค้าเสียหาย | ขอเงินคืนสำหรับคำสั่งซื้อ {order} ได้ไหม
open.delivery_status: พัสดุของฉันอยู่ไหน คำสั่งซื้อ {order} ยังไม่มาถึง | ช่วยเช็กสถานะการจัดส่งคำสั่งซื้อ {order} หน่อย
open.card_block: บัตรหาย ช่วยอายัดบัตรด้วย | บัตรถูกขโมย ต้องการอายัดบัตรด่วน
open.password_reset: เข้าสู่ระบบไม่ได้ ต้องการรีเซ็ตรหัสผ่าน | ลืมรหัสผ่าน แอปไม่ยอมให้เข้า
open.change_address: ต้องการเปลี่ยนที่อยู่จัดส่งของคำสั่งซื้อ {order} | ย้ายบ้านแล้ว ช่วยอัปเดตที่อยู่ให้หน่อย
open.cancel_subscription: ต้องการยกเลิกการสมัครสมาชิก | ช่วยยกเลิกแพ็กเกจรายเดือนให้หน่อย
open.billing_dispute: มีรายการเรียกเก็บเงินที่ฉันไม่รู้จัก | เดือนนี้โดนเรียกเก็บเงินซ้ำสองครั้ง ต้องการโต้แย้ง
ans.kb-refund-window: สามารถขอคืนเงินได้ภายใน {v} วันหลังได้รับสินค้า
ans.kb-refund-processing: เมื่ออนุมัติแล้ว เงินคืนจะเข้าบัญชีภายใน {v} วันทำการ
ans.kb-delivery-times: การจัดส่งแบบมาตรฐานใช้เวลา {v} วันทำการ
ans.kb-delivery-tracking: ข้อมูลติดตามพัสดุอาจใช้เวลาอัปเดตถึง {v} ชั่วโมง
ans.kb-card-block: หลังอายัดบัตรแล้ว บัตรใหม่จะส่งถึงภายใน {v} วันทำการ
ans.kb-card-freeze: คุณสามารถระงับบัตรชั่วคราวในแอป มีผลภายใน {v} นาที
ans.kb-reset-link: จะส่งลิงก์รีเซ็ตให้ ลิงก์ใช้ได้ {v} นาที
ans.kb-account-lockout: หากใส่รหัสผิดหลายครั้ง บัญชีจะถูกล็อก {v} ชั่วโมง
ans.kb-address-change: เปลี่ยนที่อยู่จัดส่งได้ไม่เกิน {v} ชั่วโมงก่อนจัดส่ง
ans.kb-address-billing: การอัปเดตที่อยู่สำหรับเรียกเก็บเงินมีผลภายใน {v} วันทำการ
ans.kb-cancel-notice: ยกเลิกการสมัครสมาชิกได้โดยแจ้งล่วงหน้า {v} วัน
ans.kb-cancel-refund: ระยะเวลาที่ยังไม่ได้ใช้จะคืนเงินตามสัดส่วนภายใน {v} วัน
ans.kb-dispute-window: โต้แย้งรายการได้ภายใน {v} วันนับจากวันที่ในใบแจ้งยอด
ans.kb-dispute-resolution: การโต้แย้งจะได้รับการตรวจสอบและแก้ไขภายใน {v} วันทำการ
""",
    "zh": """
disclose: 我是{bot}，AI智能助理。 | 您好，您正在与AI自动助理{bot}对话。
hello: 我可以帮您处理。 | 好的，我帮您查一下。
intro: 您好，我是客服团队的{name}。 | 您好，我是{name}，感谢您的耐心等待。
verify: 继续之前，请确认您注册的邮箱、手机号码或卡号。 | 为了验证身份，请提供您注册的邮箱或手机号码。
pii: 是{v}。 | {v} | 好的，{v}
verified: 谢谢，您的身份已验证。 | 谢谢，已确认您的账户。
echo: 谢谢，我已验证{v}。 | 好的，{v}与我们的记录一致。
followup: 好的。还有什么需要注意的吗？ | 需要多长时间？ | 接下来会怎样？
loop: 我已经说过了。 | 这不是我问的。 | 再说一遍：
fallback: 抱歉，我没太明白。您能换个说法吗？
ask_human: 我要转人工。 | 请帮我转真人客服。
keep: 我可以在这里直接帮您。 | 目前客服都在忙，我会继续为您服务。
not_helpful: 这没有解决我的问题。 | 这根本没用。
fail: 抱歉，目前无法完成您的请求。 | 抱歉，我们的系统出现了问题。
transfer: 我帮您转接人工客服。 | 请稍候，正在为您接通我们的团队。
wait: 你好？有人吗？ | 还在等……
done: 已经处理好了，您很快会收到确认。 | 我已为您办理完成，确认信息稍后发送。
thanks: 谢谢你的帮助！ | 好的，谢谢。
close: 不客气，祝您愉快！ | 很高兴能帮到您。
bye: 算了，我晚点再试。 | 算了吧。
info: 详细信息也会通过邮件发送给您。 | 您可以在应用里查看进度。
open.refund: 我要申请订单{order}的退款，商品坏了。 | 订单{order}可以退款吗？
open.delivery_status: 我的包裹在哪里？订单{order}还没到。 | 请帮我查一下订单{order}的配送状态。
open.card_block: 我的卡丢了，请帮我冻结。 | 我的卡被偷了，需要马上挂失。
open.password_reset: 我登录不了，需要重置密码。 | 我忘记密码了，应用一直拒绝登录。
open.change_address: 我需要修改订单{order}的收货地址。 | 我搬家了，请更新我的地址。
open.cancel_subscription: 我想取消订阅。 | 请取消我的月度套餐。
open.billing_dispute: 我的账单上有一笔我不认识的费用。 | 这个月我被扣了两次款，我要申诉。
ans.kb-refund-window: 收货后{v}天内可以申请退款。
ans.kb-refund-processing: 退款批准后，{v}个工作日内到账。
ans.kb-delivery-times: 标准配送需要{v}个工作日。
ans.kb-delivery-tracking: 物流信息最多可能需要{v}小时才会更新。
ans.kb-card-block: 卡片冻结后，补发的新卡将在{v}个工作日内送达。
ans.kb-card-freeze: 您也可以在应用内临时冻结卡片，{v}分钟内生效。
ans.kb-reset-link: 我会发送重置链接，有效期为{v}分钟。
ans.kb-account-lockout: 多次输入错误后，账户将被锁定{v}小时。
ans.kb-address-change: 收货地址最晚可在发货前{v}小时修改。
ans.kb-address-billing: 账单地址更新将在{v}个工作日内生效。
ans.kb-cancel-notice: 取消订阅需提前{v}天通知。
ans.kb-cancel-refund: 未使用的期间将在{v}天内按比例退款。
ans.kb-dispute-window: 可在账单日起{v}天内对费用提出申诉。
ans.kb-dispute-resolution: 申诉将在{v}个工作日内调查并处理完毕。
""",
}


def _parse_phrases(block: str) -> dict[str, tuple[str, ...]]:
    out: dict[str, tuple[str, ...]] = {}
    for line in block.strip().splitlines():
        key, _, rest = line.partition(": ")
        out[key.strip()] = tuple(alt.strip() for alt in rest.split(" | "))
    return out


PHRASES: dict[str, dict[str, tuple[str, ...]]] = {
    lang: _parse_phrases(block) for lang, block in _PHRASE_BLOCKS.items()
}
ASK_HUMAN_PHRASES: tuple[str, ...] = tuple(a for p in PHRASES.values() for a in p["ask_human"])
SYSTEM_TRANSFER_TEXT = "Conversation transferred to the human agent queue."
