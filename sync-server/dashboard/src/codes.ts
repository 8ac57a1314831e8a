// Chinese and English labels of the code lists the 待办 page shows from records, as
// `cunji_core::domain::codes` labels them (records carry codes; the server's reports carry
// labels, its records do not). A code missing here is shown as it is, never hidden.
// Kept by hand: a list added to the core that the page shows must be added here too.

type Labels = Record<string, [string, string]>

const LISTS: Record<string, Labels> = {
  leave_type: {
    personal: ['事假', 'Personal leave'],
    sick: ['病假', 'Sick leave'],
    official_meeting: ['公假(会议培训)', 'Official leave (meeting, training)'],
    official_trip: ['公务外出报备', 'Official trip'],
    rotation: ['轮休', 'Rotation rest'],
  },
  approval_level: {
    township: ['乡镇', 'Township'],
    county_org: ['县委组织部', 'County organisation department'],
  },
  visit_mode: {
    in_home: ['入户', 'In the home'],
    in_village: ['村内面谈', 'Face to face in the village'],
    phone: ['电话', 'Phone call'],
    video: ['微信视频', 'WeChat video call'],
  },
  confirmation: {
    head_signed: ['户主签字', 'Signed by the head'],
    member_signed: ['成员签字', 'Signed by a member'],
    fingerprint: ['按手印', 'Fingerprint'],
    refused: ['拒签', 'Refused to sign'],
  },
  work_activity: {
    household_visits: ['入户走访', 'Household visits'],
    party_building: ['党建·三会一课', 'Party building'],
    meeting: ['会议', 'Meeting'],
    project: ['项目推进', 'Project work'],
    policy_delivery: ['政策兑现', 'Policy delivery'],
    mediation: ['矛盾调解', 'Mediation'],
    petitions: ['信访接待', 'Receiving petitions'],
    training: ['培训', 'Training'],
    other: ['其他', 'Other'],
  },
  petition_channel: {
    in_person: ['来访', 'In person'],
    phone: ['来电', 'Phone call'],
    letter: ['来信', 'Letter'],
    online: ['网络', 'Online'],
    other: ['其他', 'Other'],
  },
  petition_domain: {
    identification: ['精准识别', 'Targeting (identification)'],
    finance: ['金融扶贫', 'Financial support'],
    health: ['健康扶贫', 'Health support'],
    education: ['教育扶贫', 'Education support'],
    relocation: ['易地搬迁', 'Relocation'],
    social_assistance: ['社会救助', 'Social assistance'],
    training_employment: ['培训就业', 'Training and employment'],
    housing_renovation: ['危房改造', 'Dangerous-house renovation'],
    special_programs: ['专项扶贫', 'Special poverty programmes'],
    social_support: ['社会帮扶', 'Social pairing support'],
    ecological_compensation: ['生态补偿', 'Ecological compensation'],
    other: ['其他', 'Other'],
  },
  petition_status: {
    accepted: ['受理', 'Accepted'],
    in_progress: ['办理中', 'In progress'],
    closed: ['办结', 'Closed (resolved)'],
    not_accepted: ['不予受理', 'Not accepted'],
  },
  status_change_type: {
    new_inclusion: ['新识别纳入', 'New identification'],
    return_inclusion: ['返贫纳入', 'Inclusion after returning to poverty'],
    marked_exit: ['标注脱贫', 'Marked out of poverty'],
    removal: ['清退', 'Removal (wrongly registered)'],
    member_change: ['成员自然增减', 'Natural change of members'],
    closure: ['自然销户', 'Natural closure of the household'],
  },
  status_change_step: {
    application: ['申请/村初选', 'Application or village pre-selection'],
    democratic_review: ['村民代表大会民主评议', 'Villager representatives’ review'],
    verification: ['村两委+工作队核实', 'Verification by the village committees and team'],
    household_consent: ['农户认可签字', 'Household’s signed consent'],
    publicity: ['村内公示', 'Public notice in the village'],
    township_review: ['乡镇审核', 'Township review'],
    county_approval: ['县审批公告', 'County approval and announcement'],
    system_entry: ['系统录入', 'Entered in the national system'],
  },
  return_visit_result: {
    satisfied: ['满意', 'Satisfied'],
    fairly_satisfied: ['基本满意', 'Fairly satisfied'],
    dissatisfied: ['不满意', 'Dissatisfied'],
  },
  step_outcome: {
    passed: ['通过', 'Passed'],
    failed: ['未通过', 'Not passed'],
    returned: ['退回补正', 'Sent back for correction'],
  },
}

export type CodeList = keyof typeof LISTS

/** The label of `code` in `list`, in the page's language; the code itself when unknown. */
export function codeLabel(list: CodeList, code: unknown, locale: string): string {
  if (typeof code !== 'string' || code === '') return '—'
  const l = LISTS[list]?.[code]
  return l ? (locale === 'en' ? l[1] : l[0]) : code
}

/** Several codes' labels, joined. */
export function codeLabels(list: CodeList, codes: unknown, locale: string): string {
  if (!Array.isArray(codes) || codes.length === 0) return '—'
  return codes.map((c) => codeLabel(list, c, locale)).join(locale === 'en' ? ', ' : '、')
}
